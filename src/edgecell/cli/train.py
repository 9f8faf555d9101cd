import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import FullDecode, Quiet, keras_verbose
from edgecell.cli.user_errors import user_errors
from edgecell.core import modelfolder
from edgecell.core.errors import EdgecellError
from edgecell.train import interrupt
from edgecell.train.config import TrainConfig
from edgecell.train.distribute import Distribute
from edgecell.train.networks import Arch, Weights

TRAINED = Path("trained")  # `--out` default: trained/<dataset name>

DEFAULTS = TrainConfig(data_dir="", out_dir="")
# EfficientNet-Lite0's ImageNet input size (efficientnet_lite.IMG_SIZE, not imported: it would load numpy at --help).
# Other sizes work (the backbone is convolutional, then pooled) and trade its ImageNet features' fit for speed.
LITE0_SIZE = 224


class Augment(str, Enum):  # the policies of edgecell.train.pipeline.AUGMENT_POLICIES (kept TensorFlow-free here)
    none = "none"
    upright = "upright"
    any_orientation = "any-orientation"
    classic = "classic"


class ClassWeight(str, Enum):
    auto = "auto"
    balanced = "balanced"
    none = "none"


DataDir = Annotated[Path, typer.Argument(help="Folder with one subfolder of images per class.", metavar="DATA")]
Out = Annotated[
    Optional[Path],
    typer.Option("--out", help="Model folder to write.", show_default="trained/<dataset name>"),
]
ArchOption = Annotated[
    Arch, typer.Option(help="edge: small int8-friendly CNN; tutorial: the tutorial's CNN; mobilenetv2.")
]
WeightsOption = Annotated[
    Optional[Weights],
    typer.Option(
        help="ImageNet weights: efficientnet-lite0 starts from them unless none (installed, no download); "
        "mobilenetv2 downloads them once.",
        show_default="imagenet for efficientnet-lite0, else none",
    ),
]
ImgSize = Annotated[
    Optional[int],
    typer.Option(
        min=16, help="Images are resized to this square size.", show_default="200; 224 for efficientnet-lite0"
    ),
]
Epochs = Annotated[int, typer.Option(min=1, help="Most epochs to run; early stopping usually ends sooner.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Images per training step.")]
TestSplit = Annotated[float, typer.Option(help="Fraction of each class held out for testing.")]
ValSplit = Annotated[float, typer.Option(help="Fraction of the training part used for early stopping.")]
Seed = Annotated[int, typer.Option(help="Seed of the split, initialisation and shuffling.")]
AugmentOption = Annotated[
    Optional[Augment],
    typer.Option(
        help="Random changes while training. upright: shifts, zoom, brightness, never mirrors or rotates; "
        "any-orientation: also mirrors and rotates (microscopy, aerial); classic: horizontal mirror, small "
        "rotations; none.",
        show_default="upright; none with --arch tutorial",
    ),
]
ClassWeightOption = Annotated[
    ClassWeight,
    typer.Option(help="auto: weight the loss by class when the classes are unbalanced; balanced: always; none."),
]
Strict = Annotated[
    bool,
    typer.Option("--strict", help="Exit 1 when the model is not clearly better than answering the largest class."),
]
ExistOk = Annotated[
    bool, typer.Option("--exist-ok", help="Overwrite a model folder that already holds a trained model.")
]
Patience = Annotated[int, typer.Option(min=1, help="Epochs without improvement before stopping early.")]
DistributeOption = Annotated[
    Distribute,
    typer.Option(
        help="none: one device; mirrored: every GPU (or logical CPU) of this machine; "
        "multiworker: one process per machine, cluster read from TF_CONFIG."
    ),
]
Resume = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted run from OUT/backup/ (written after every epoch).")
]
Cache = Annotated[
    Optional[Path],
    typer.Option(
        "--cache",
        metavar="FILE",
        help="Cache decoded images in files with this prefix (or in this folder) after the first epoch.",
        show_default="stream from disk every epoch",
    ),
]


def train(
    data_dir: DataDir,
    out: Out = None,
    arch: ArchOption = Arch(DEFAULTS.arch),
    weights: WeightsOption = None,
    img_size: ImgSize = None,
    epochs: Epochs = DEFAULTS.epochs,
    batch_size: BatchSize = DEFAULTS.batch_size,
    test_split: TestSplit = DEFAULTS.test_split,
    val_split: ValSplit = DEFAULTS.val_split,
    seed: Seed = DEFAULTS.seed,
    augment: AugmentOption = None,
    class_weight: ClassWeightOption = ClassWeight(DEFAULTS.class_weight),
    strict: Strict = False,
    exist_ok: ExistOk = False,
    patience: Patience = DEFAULTS.patience,
    distribute: DistributeOption = Distribute(DEFAULTS.distribute),
    resume: Resume = False,
    cache: Cache = None,
    quiet: Quiet = False,
    full_decode: FullDecode = False,
):
    """Train a classifier on a class-folder dataset and evaluate it on a held-out split."""
    from edgecell.train.training import train as run

    out = out or TRAINED / data_dir.resolve().name
    policy = augment.value if augment else ("none" if arch.value == "tutorial" else DEFAULTS.augment)
    config = TrainConfig(
        data_dir=str(data_dir),
        out_dir=str(out),
        arch=arch.value,
        weights=(weights or (Weights.imagenet if arch is Arch.efficientnet_lite0 else Weights.none)).value,
        img_size=img_size or (LITE0_SIZE if arch is Arch.efficientnet_lite0 else DEFAULTS.img_size),
        epochs=epochs,
        batch_size=batch_size,
        test_split=test_split,
        val_split=val_split,
        seed=seed,
        augment=policy,
        patience=patience,
        class_weight=class_weight.value,
        distribute=distribute.value,
        resume=resume,
        cache=str(cache or ""),
        decode="full" if full_decode else DEFAULTS.decode,
    )
    with user_errors():
        _check_folders(data_dir, out, resume or exist_ok)
        log = (lambda *_: None) if quiet else typer.echo
        with interrupt.Guard(lambda: _say_interrupted(config)) as guard:
            try:
                report = run(config, verbose=keras_verbose(), log=log, callbacks=[guard.callback()])
            except KeyboardInterrupt:
                guard.interrupted()
                raise typer.Exit(interrupt.EXIT_INTERRUPTED) from None
    if not report["distribute"]["chief"]:
        typer.echo(f"Worker {report['distribute']['worker']} done; the chief writes {out}/.")
        return
    typer.echo(f"Wrote {out}/ ({', '.join(modelfolder.TRAINED_FILES)}).")
    if strict and report["test"]["verdict"]:
        typer.secho("Failing (--strict): the model is not clearly better than a constant answer.", err=True)
        raise typer.Exit(1)


def _check_folders(data_dir: Path, out: Path, overwrite: bool) -> None:
    """Refuse a dataset root of splits (DATA/train/<class>) and a finished model folder about to be overwritten."""
    if data_dir.is_dir():
        subs = [d for d in data_dir.iterdir() if d.is_dir()]
        split = next((d for d in subs if d.name.lower() in ("train", "training")), None)
        if split is not None and all(any(x.is_dir() for x in d.iterdir()) for d in subs):
            others = [d for d in subs if d is not split]
            check = f" (and check on the rest with `edgecell evaluate MODEL --data {others[0]}`)" if others else ""
            raise EdgecellError(
                f"{data_dir} holds splits ({', '.join(sorted(d.name for d in subs))}), each with class folders; "
                f"train on {split}{check}."
            )
    if not overwrite and (out / modelfolder.MODEL_FILE).exists():
        raise EdgecellError(f"{out} already holds a trained model; give a fresh --out, or --exist-ok to overwrite it.")


def _say_interrupted(config: TrainConfig) -> None:
    from edgecell.train import resume

    state = resume.read(resume.folder(config.out_dir)) or {}
    args = [a for a in sys.argv[1:] if a != "--resume"]
    done, command = state.get("epoch", 0), f"edgecell {shlex.join(args)}"
    if done:
        said = f"Interrupted after epoch {done} of {config.epochs}; continue with: {command} --resume"
    else:
        said = f"Interrupted in epoch 1 of {config.epochs}, before any was saved; start again with: {command}"
    typer.echo(said, err=True)
