"""The options several commands share, each with one meaning everywhere:

- `-q` is `--quiet`; `--json FILE` writes a machine-readable copy to FILE (`-` for standard output);
- `--threads` takes `N` or `N,M,...` (only `bench` sweeps several);
- `--out` is a folder, `--output` a file; `--runtime` picks the TFLite runtime.

Nothing here imports numpy, OpenCV or a runtime: `edgecell --help` stays fast.
"""

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.core.errors import EdgecellError
from edgecell.device.model.runtime import Runtime


def keras_verbose() -> int:
    """Keras' `verbose` for a training run: its progress bar on a terminal, one line per epoch otherwise
    (a log file would hold the bar's every redraw). TensorFlow's start-up lines are kept out by
    `edgecell.core.requires.tensorflow`, which every command imports TensorFlow through."""
    import sys

    return 1 if sys.stdout.isatty() else 2


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


# --- the classifier a command runs (infer, serve) -------------------------------------------------
def _demo_model():
    from edgecell.models import DEMO_MODEL

    return DEMO_MODEL


ModelFile = Annotated[
    Optional[Path],
    typer.Option(
        "--model",
        "-m",
        show_default=False,
        help="The .tflite classifier; 'demo' is the digits demo model shipped with edgecell.",
    ),
]
Labels = Annotated[
    Optional[Path],
    typer.Option(help="Labels file: one class a line, or 'index label' lines; replaces the model's labels."),
]
Mean = Annotated[
    Optional[str],
    typer.Option(callback=channels, help="Subtracted from 0..255 pixels before the model: one value or R,G,B."),
]
Std = Annotated[Optional[str], typer.Option(callback=channels, help="Divides pixels after --mean: one value or R,G,B.")]
TopK = Annotated[int, typer.Option(min=1, help="Classes shown per image.")]
Threshold = Annotated[float, typer.Option(min=0.0, help="Hide classes scoring below this.")]
DriftWindow = Annotated[
    int,
    typer.Option(
        "--drift-window",
        metavar="N",
        min=0,
        help="Judge drift on the last N frames against the reference export recorded in the model (0: not at all).",
    ),
]
Unknown = Annotated[
    Optional[str],
    typer.Option(
        metavar="auto|SCORE",
        help="Answer 'unknown' when the top-1 score is under a threshold: auto takes the one export chose "
        "and recorded in the model, with its accuracy guarantee; a score such as 0.7 sets it by hand.",
    ),
]


def chosen_model(model: Optional[Path]) -> Path:
    """`--model`: a path, or the word 'demo' for the shipped digits model; never a silent default."""
    if model is None:
        raise EdgecellError(
            "No model given: add --model MODEL.tflite (or --model demo for the digits demo model edgecell ships)."
        )
    if str(model) == "demo" and not model.exists():
        return _demo_model()
    return model


def open_classifier(
    model: Path,
    labels=None,
    mean=None,
    std=None,
    threads=None,
    runtime=Runtime.auto,
    full_decode: bool = False,
    locale: str = "en",
):
    """The `Classifier` the model options name; the demo model missing is one sentence."""
    from edgecell.device.model.classifier import Classifier

    model = chosen_model(model)
    if model == _demo_model() and not model.exists():
        raise EdgecellError(f"The demo model {model} is not installed here; give --model MODEL.tflite.")
    threads = one_thread_count(threads)
    return Classifier(
        model,
        labels=labels,
        mean=mean,
        std=std,
        threads=threads,
        runtime_name=runtime,
        full_decode=full_decode,
        locale=locale,
    )


# --- the HTTP server (infer --serve, serve) ------------------------------------------------------
SERVING = "The live page and HTTP API (docs/http.md)"
Token = Annotated[
    Optional[str],
    typer.Option(
        envvar="EDGECELL_TOKEN",
        show_envvar=True,
        help="Required of every client (Authorization: Bearer TOKEN), and needed to serve beyond 127.0.0.1.",
        rich_help_panel=SERVING,
    ),
]
AllowHost = Annotated[
    Optional[list[str]],
    typer.Option(
        "--allow-host",
        metavar="NAME",
        envvar="EDGECELL_ALLOW_HOST",
        show_envvar=True,
        help="A host name the server answers to besides IP addresses, localhost and the board's own name "
        "(NAME and NAME.local); repeatable (the variable: names separated by spaces). Others get 421, "
        "which stops DNS-rebinding pages.",
        show_default=False,
        rich_help_panel=SERVING,
    ),
]
MaxBodyMb = Annotated[
    float,
    typer.Option(
        min=0.001, help="POST /classify refuses (413) an image file larger than this.", rich_help_panel=SERVING
    ),
]


# What `edgecell infer` reads, how far, and what it writes.
Sources = Annotated[
    Optional[list[str]],
    typer.Argument(show_default=False, help="Image files, folders (walked recursively), globs or video files."),
]
Limit = Annotated[Optional[int], typer.Option(min=1, help="Stop after this many images or frames.")]
Warmup = Annotated[int, typer.Option(min=0, help="Inferences run first and kept out of the statistics.")]
Output = Annotated[
    Optional[Path], typer.Option("--output", "-o", help="Results file, one row per image: .csv or .jsonl.")
]
Confusion = Annotated[
    Optional[Path],
    typer.Option(
        help="On a labelled class folder, draw the confusion matrix in this .png file too.", show_default=False
    ),
]
Append = Annotated[
    bool, typer.Option("--append", help="Add to an existing --output file instead of starting it afresh.")
]
MaxOutputMb = Annotated[
    Optional[float],
    typer.Option(help="Cap the --output file: past this size it moves to <name>.1 and a new file starts."),
]
Camera = Annotated[
    Optional[str],
    typer.Option(help="Classify live frames: camera index (0 is /dev/video0), device path or stream URL."),
]
Picamera = Annotated[
    bool, typer.Option("--picamera", help="Classify live frames from the Raspberry Pi camera (picamera2).")
]
MaxFps = Annotated[Optional[float], typer.Option(min=0.01, help="Classify at most this many camera frames a second.")]
MaxPixels = Annotated[
    Optional[int],
    typer.Option(
        min=1,
        help="An image whose header declares more pixels is a failed row, never decoded (default 50000000).",
    ),
]

# How `edgecell infer` reaches the house: MQTT, Home Assistant, a webhook, class-change events.
CONNECT = "Connecting the board (docs/connecting.md)"
Mqtt = Annotated[
    Optional[str],
    typer.Option(
        envvar="EDGECELL_MQTT",
        metavar="URL",
        help="Publish results, events and stats: mqtt://host/PREFIX, or mqtt://user:pass@host:port/PREFIX "
        "(mqtts:// for TLS).",
        rich_help_panel=CONNECT,
    ),
]
MqttCa = Annotated[
    Optional[Path],
    typer.Option(exists=True, dir_okay=False, help="CA certificate for an mqtts:// broker.", rich_help_panel=CONNECT),
]
DeviceId = Annotated[
    Optional[str],
    typer.Option(
        envvar="EDGECELL_DEVICE_ID",
        help="This board in the MQTT topics (default: the host name).",
        rich_help_panel=CONNECT,
    ),
]
StatsEvery = Annotated[
    float,
    typer.Option(
        envvar="EDGECELL_STATS_EVERY", min=0.1, help="Seconds between MQTT stats messages.", rich_help_panel=CONNECT
    ),
]
HaDiscovery = Annotated[
    bool,
    typer.Option(
        "--ha-discovery",
        envvar="EDGECELL_HA_DISCOVERY",
        help="Announce the board to Home Assistant (MQTT).",
        rich_help_panel=CONNECT,
    ),
]
MqttOutbox = Annotated[
    Optional[Path],
    typer.Option(
        envvar="EDGECELL_MQTT_OUTBOX",
        file_okay=False,
        help="Folder where results wait while the broker is away (default ~/.cache/edgecell/outbox/DEVICE).",
        rich_help_panel=CONNECT,
    ),
]
MqttOutboxMb = Annotated[
    float,
    typer.Option(
        envvar="EDGECELL_MQTT_OUTBOX_MB",
        help="Cap of that folder; past it results are dropped and counted.",
        rich_help_panel=CONNECT,
    ),
]
MqttBatch = Annotated[
    bool,
    typer.Option(
        "--mqtt-batch/--no-mqtt-batch",
        envvar="EDGECELL_MQTT_BATCH",
        help="Results that come faster than 20 a second go several to a message on .../results; "
        "--no-mqtt-batch sends each alone on .../result.",
        rich_help_panel=CONNECT,
    ),
]
Webhook = Annotated[
    Optional[str],
    typer.Option(
        envvar="EDGECELL_WEBHOOK",
        metavar="URL",
        help="POST each class-change event as JSON to this URL.",
        rich_help_panel=CONNECT,
    ),
]
Smooth = Annotated[
    Optional[int],
    typer.Option(
        envvar="EDGECELL_SMOOTH",
        min=1,
        help="Events: rank by the mean scores of the last N frames.",
        rich_help_panel=CONNECT,
    ),
]
Hold = Annotated[
    Optional[int],
    typer.Option(
        envvar="EDGECELL_HOLD",
        min=1,
        help="Events: a new class must lead K frames in a row at or above --threshold.",
        rich_help_panel=CONNECT,
    ),
]

# What `edgecell infer --collect` keeps for labelling (docs/board.md).
COLLECTING = "Collecting frames to label (docs/board.md)"
Collect = Annotated[
    Optional[Path],
    typer.Option(
        envvar="EDGECELL_COLLECT",
        show_envvar=True,
        file_okay=False,
        help="Keep the frames the model was unsure of (and a few others) here, as JPEG and JSON, to label later.",
        rich_help_panel=COLLECTING,
    ),
]
CollectMargin = Annotated[
    float,
    typer.Option(
        metavar="GAP", help="Keep a frame whose two best scores are closer than this.", rich_help_panel=COLLECTING
    ),
]
CollectShare = Annotated[
    float,
    typer.Option(
        metavar="SHARE",
        help="Also keep this share of confident frames, at random (seeded).",
        rich_help_panel=COLLECTING,
    ),
]
CollectPerMinute = Annotated[
    int, typer.Option(metavar="N", help="Keep at most N frames a minute.", rich_help_panel=COLLECTING)
]
CollectMb = Annotated[
    float,
    typer.Option(
        envvar="EDGECELL_COLLECT_MB",
        metavar="MB",
        help="Cap of the --collect folder, counting what is there; past it the oldest frames go.",
        rich_help_panel=COLLECTING,
    ),
]


def by_name(settings, flags: dict):
    """The settings dataclass `settings` made from a command's `flags` (its parameters, by name)
    that carry its fields' names, so a new setting is one field and one flag of the same name."""
    return settings(**{field.name: flags[field.name] for field in dataclasses.fields(settings)})
