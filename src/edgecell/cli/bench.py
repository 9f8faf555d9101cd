from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import FullDecode, JsonFile, RuntimeChoice, Threads, thread_counts, write_json
from edgecell.cli.user_errors import user_errors
from edgecell.device.model.runtime import Runtime

Models = Annotated[
    list[Path],
    typer.Argument(
        show_default=False,
        help="One or more .tflite files; the first is the reference of the speed-up column.",
    ),
]
Runs = Annotated[int, typer.Option(min=1, help="Timed inferences per model and thread count.")]
Warmup = Annotated[int, typer.Option(min=0, help="Untimed inferences before the timed ones.")]
BenchData = Annotated[
    Optional[Path],
    typer.Option(
        help="A class-folder dataset, or a model folder (its held-out "
        "split): adds accuracy and end-to-end latency. Without it the inputs are random.",
    ),
]
KerasBaseline = Annotated[
    Optional[Path],
    typer.Option(
        help="Model folder of `edgecell train`: add its Keras model as the baseline (needs TensorFlow).",
    ),
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="With --data: exit 1 when a model is not clearly better than answering the largest class, "
        "or never answers a class.",
    ),
]


def bench(
    models: Models,
    runs: Runs = 200,
    warmup: Warmup = 20,
    data: BenchData = None,
    threads: Threads = None,
    json_file: JsonFile = None,
    keras: KerasBaseline = None,
    runtime: RuntimeChoice = Runtime.auto,
    full_decode: FullDecode = False,
    strict: Strict = False,
):
    """Time .tflite models like TFLite's benchmark tool, with real images when given: latency
    percentiles, inferences per second, peak memory, size, accuracy. --threads 1,2,4 sweeps."""
    from edgecell.device import bench_table, benchmark
    from edgecell.device.measure.machine import run_context
    from edgecell.device.model.runtime import interpreter_class

    def show(run):
        typer.echo("\n".join(bench_table.details(run)))

    with user_errors():
        counts = thread_counts(threads)
        baseline = None
        if keras is not None:
            from edgecell.train.keras_bench import keras_baseline

            baseline = partial(keras_baseline, keras, full_decode=full_decode)
        rows = benchmark.bench(
            models, counts, runs, warmup, data, baseline, runtime, on_run=show, full_decode=full_decode
        )
        typer.echo("")
        typer.echo("\n".join(bench_table.comparison(rows)))
        weak = bench_table.warnings(rows)
        if weak:
            typer.echo("")
            typer.echo("\n".join(weak))
        if json_file is not None:
            info = interpreter_class(runtime)[1]
            settings = {
                "models": [str(m) for m in models],
                "runs": runs,
                "warmup": warmup,
                "data": str(data) if data else None,
                "threads": counts,
                "keras": str(keras) if keras else None,
            }
            write_json(json_file, bench_table.report(rows, run_context(info), settings))
            if str(json_file) != "-":
                typer.echo(f"Wrote {json_file}")
    if strict and weak:
        typer.secho("Failing (--strict): a model is not clearly better than a constant answer.", err=True)
        raise typer.Exit(1)
