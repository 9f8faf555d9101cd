from pathlib import Path

import typer

from edgecell.cli.user_errors import user_errors
from edgecell.train.config import TrainConfig
from edgecell.train.distribute import Distribute
from edgecell.train.networks import Arch, Weights


def train(
    data_dir: Path = typer.Argument(..., help="Folder with one subfolder of images per class."),
    out: Path = typer.Option(None, "--out", help="Model folder to write [default: models/<dataset name>]."),
    arch: Arch = typer.Option(Arch.edge, help="edge: small int8-friendly CNN; seed: the tutorial's CNN; mobilenetv2."),
    weights: Weights = typer.Option(Weights.none, help="Start mobilenetv2 from ImageNet weights (downloads once)."),
    img_size: int = typer.Option(200, min=16, help="Images are resized to this square size."),
    epochs: int = typer.Option(5, min=1),
    batch_size: int = typer.Option(16, min=1),
    test_split: float = typer.Option(0.2, help="Fraction of each class held out for testing."),
    val_split: float = typer.Option(0.1, help="Fraction of the training part used for early stopping."),
    seed: int = typer.Option(4, help="Seed of the split, initialisation and shuffling."),
    augment: bool = typer.Option(False, help="Random flips, rotations, zoom and brightness while training."),
    patience: int = typer.Option(3, min=1, help="Epochs without improvement before stopping early."),
    distribute: Distribute = typer.Option(
        Distribute.none,
        help="none: one device; mirrored: every GPU (or logical CPU) of this machine; "
        "multiworker: one process per machine, cluster read from TF_CONFIG.",
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue an interrupted run from OUT/backup/ (written after every epoch)."
    ),
    cache: Path = typer.Option(
        None,
        "--cache",
        metavar="FILE",
        help="Cache decoded images in files with this prefix (or in this folder) after the first epoch "
        "[default: stream from disk every epoch].",
    ),
):
    """Train a classifier on a class-folder dataset and evaluate it on a held-out split."""
    from edgecell.train.training import train as run

    out = out or Path("models") / data_dir.resolve().name
    config = TrainConfig(
        data_dir=str(data_dir),
        out_dir=str(out),
        arch=arch.value,
        weights=weights.value,
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
    )
    with user_errors():
        report = run(config, log=typer.echo)
    if not report["distribute"]["chief"]:
        typer.echo(f"Worker {report['distribute']['worker']} done; the chief writes {out}/.")
        return
    typer.echo(
        f"Wrote {out}/ (model.keras, labels.txt, split.json, config.json, train_report.json, "
        "curves.png, confusion.png)."
    )
