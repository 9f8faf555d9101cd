from pathlib import Path
from typing import Annotated, Optional

import typer

from edgecell.cli.options import FullDecode, Quiet
from edgecell.cli.user_errors import user_errors
from edgecell.core import modelfolder
from edgecell.train.config import TrainConfig
from edgecell.train.distribute import Distribute
from edgecell.train.networks import Arch, Weights

TRAINED = Path("trained")  # `--out` default: trained/<dataset name>

DEFAULTS = TrainConfig(data_dir="", out_dir="")


def train(
    data_dir: Annotated[Path, typer.Argument(help="Folder with one subfolder of images per class.", metavar="DATA")],
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Model folder to write [default: trained/<dataset name>].")
    ] = None,
    arch: Annotated[
        Arch, typer.Option(help="edge: small int8-friendly CNN; tutorial: the tutorial's CNN; mobilenetv2.")
    ] = Arch(DEFAULTS.arch),
    weights: Annotated[
        Optional[Weights],
        typer.Option(
            help="ImageNet weights: efficientnet-lite0 starts from them unless none (installed, no download); "
            "mobilenetv2 downloads them once [default: imagenet for efficientnet-lite0, else none]."
        ),
    ] = None,
    img_size: Annotated[int, typer.Option(min=16, help="Images are resized to this square size.")] = DEFAULTS.img_size,
    epochs: Annotated[int, typer.Option(min=1)] = DEFAULTS.epochs,
    batch_size: Annotated[int, typer.Option(min=1)] = DEFAULTS.batch_size,
    test_split: Annotated[
        float, typer.Option(help="Fraction of each class held out for testing.")
    ] = DEFAULTS.test_split,
    val_split: Annotated[
        float, typer.Option(help="Fraction of the training part used for early stopping.")
    ] = DEFAULTS.val_split,
    seed: Annotated[int, typer.Option(help="Seed of the split, initialisation and shuffling.")] = DEFAULTS.seed,
    augment: Annotated[
        bool, typer.Option(help="Random flips, rotations, zoom and brightness while training.")
    ] = DEFAULTS.augment,
    patience: Annotated[
        int, typer.Option(min=1, help="Epochs without improvement before stopping early.")
    ] = DEFAULTS.patience,
    distribute: Annotated[
        Distribute,
        typer.Option(
            help="none: one device; mirrored: every GPU (or logical CPU) of this machine; "
            "multiworker: one process per machine, cluster read from TF_CONFIG."
        ),
    ] = Distribute(DEFAULTS.distribute),
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run from OUT/backup/ (written after every epoch).")
    ] = False,
    cache: Annotated[
        Optional[Path],
        typer.Option(
            "--cache",
            metavar="FILE",
            help="Cache decoded images in files with this prefix (or in this "
            "folder) after the first epoch [default: stream from disk every epoch].",
        ),
    ] = None,
    quiet: Quiet = False,
    full_decode: FullDecode = False,
):
    """Train a classifier on a class-folder dataset and evaluate it on a held-out split."""
    from edgecell.train.training import train as run

    out = out or TRAINED / data_dir.resolve().name
    config = TrainConfig(
        data_dir=str(data_dir),
        out_dir=str(out),
        arch=arch.value,
        weights=(weights or (Weights.imagenet if arch is Arch.efficientnet_lite0 else Weights.none)).value,
        img_size=img_size,
        epochs=epochs,
        batch_size=batch_size,
        test_split=test_split,
        val_split=val_split,
        seed=seed,
        augment=augment,
        patience=patience,
        distribute=distribute.value,
        resume=resume,
        cache=str(cache or ""),
        decode="full" if full_decode else DEFAULTS.decode,
    )
    with user_errors():
        report = run(config, log=(lambda *_: None) if quiet else typer.echo)
    if not report["distribute"]["chief"]:
        typer.echo(f"Worker {report['distribute']['worker']} done; the chief writes {out}/.")
        return
    typer.echo(f"Wrote {out}/ ({', '.join(modelfolder.TRAINED_FILES)}).")
