"""The options several commands share, each with one meaning everywhere:

- `-q` is `--quiet`; `--json FILE` writes a machine-readable copy to FILE (`-` for standard output);
- `--threads` takes `N` or `N,M,...` (only `bench` sweeps several);
- `--out` is a folder, `--output` a file; `--runtime` picks the TFLite runtime.

Nothing here imports numpy, OpenCV or a runtime: `edgecell --help` stays fast.
"""

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.core.errors import EdgecellError
from edgecell.device.runtime import Runtime

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print less: no line per image, no progress.")]
JsonFile = Annotated[
    Optional[Path],
    typer.Option("--json", metavar="FILE", dir_okay=False, help="Also write everything as JSON to FILE ('-': stdout)."),
]
Threads = Annotated[
    Optional[str],
    typer.Option(metavar="N", help="Interpreter threads: N, or N,M,... where a command sweeps several."),
]
RuntimeChoice = Annotated[
    Runtime, typer.Option("--runtime", help="TFLite runtime: auto takes litert, then tflite-runtime.")
]
FullDecode = Annotated[
    bool,
    typer.Option("--full-decode", help="Decode every pixel of large JPEGs instead of at the scale the model needs."),
]
Locale = Annotated[
    str,
    typer.Option(
        metavar="LANG", help="Labels in this language where a model's standard metadata has some (e.g. en, fr)."
    ),
]
ModelDir = Annotated[Path, typer.Argument(help="Model folder written by `edgecell train`.", show_default=False)]


def thread_counts(text: Optional[str]) -> list:
    """'1,2,4' as [1, 2, 4]; None (the runtime's own choice) as [None]."""
    if text is None:
        return [None]
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or any(count < 1 for count in counts):
        raise EdgecellError(f"--threads {text!r} is not N or N,M,...; give positive whole numbers, e.g. 1,2,4.")
    return counts


def one_thread_count(text: Optional[str]) -> Optional[int]:
    """A command that runs once takes one --threads value."""
    counts = thread_counts(text)
    if len(counts) > 1:
        raise EdgecellError(f"--threads {text!r} gives several counts; this command takes one, e.g. --threads 2.")
    return counts[0]


def channels(value: Optional[str]):
    """'127.5' or '123.7,116.3,103.5' as floats (one value, or one per RGB channel)."""
    if value is None:
        return None
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number or three comma-separated numbers (R,G,B).") from None
    if len(numbers) not in (1, 3):
        raise typer.BadParameter(f"{value!r} has {len(numbers)} values; give one, or three (R,G,B).")
    return numbers


def write_json(path: Path, data: dict) -> None:
    """`--json FILE`: written whole (beside, then renamed); `-` prints it."""
    import json

    if str(path) == "-":
        typer.echo(json.dumps(data, indent=2))
        return
    from edgecell.core import atomic

    atomic.write_json(path, data)
