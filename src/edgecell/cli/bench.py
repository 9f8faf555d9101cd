from functools import partial
from pathlib import Path
from typing import Optional

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.device.runtime import Runtime


def bench(
    models: list[Path] = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="One or more .tflite files; the first is the reference of the speed-up column.",
    ),
    runs: int = typer.Option(200, min=1, help="Timed inferences per model and thread count."),
    warmup: int = typer.Option(20, min=0, help="Untimed inferences before the timed ones."),
    data: Optional[Path] = typer.Option(
        None,
        exists=True,
        file_okay=False,
        help="A class-folder dataset, or a "
        "model folder (its held-out split): adds accuracy and end-to-end latency. "
        "Without it the inputs are random.",
    ),
    threads: Optional[str] = typer.Option(
        None, help="Thread counts to sweep, e.g. 1,2,4; without it, the runtime's own default."
    ),
    json_out: Optional[Path] = typer.Option(
        None, "--json", dir_okay=False, help="Write every number and the machine it ran on to this JSON file."
    ),
    keras: Optional[Path] = typer.Option(
        None,
        exists=True,
        file_okay=False,
        help="Model folder of `edgecell train`: add its Keras model as the baseline (needs TensorFlow).",
    ),
    runtime: Runtime = typer.Option(Runtime.auto, help="TFLite runtime to load the models with."),
):
    """Time .tflite models like TFLite's benchmark tool, with real images when given: latency
    percentiles, inferences per second, peak memory, size, accuracy."""
    from edgecell.core import atomic
    from edgecell.device import bench as measure
    from edgecell.device import bench_table
    from edgecell.device.context import run_context
    from edgecell.device.runtime import interpreter_class

    def show(run):
        typer.echo("\n".join(bench_table.details(run)))

    with user_errors():
        counts = measure.parse_threads(threads)
        baseline = None
        if keras is not None:
            from edgecell.train.keras_bench import keras_baseline

            baseline = partial(keras_baseline, keras)
        rows = measure.bench(models, counts, runs, warmup, data, baseline, runtime, on_run=show)
        typer.echo("")
        typer.echo("\n".join(bench_table.comparison(rows)))
        if json_out is not None:
            info = interpreter_class(runtime)[1]
            settings = {
                "models": [str(m) for m in models],
                "runs": runs,
                "warmup": warmup,
                "data": str(data) if data else None,
                "threads": counts,
                "keras": str(keras) if keras else None,
            }
            atomic.write_json(json_out, bench_table.report(rows, run_context(info), settings))
            typer.echo(f"Wrote {json_out}")
