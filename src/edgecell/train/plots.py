"""The two pictures a training run leaves: learning curves and the confusion matrix."""

from pathlib import Path

from edgecell.core import atomic


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curves(history: dict, target: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if key in history:
                ax.plot(range(1, len(history[key]) + 1), history[key], style, marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)  # whole epochs only
        ax.set_title(metric)
        ax.legend()
    fig.tight_layout()
    _save(fig, plt, target)


def confusion(matrix, classes, target: Path, baseline: str = "") -> None:
    """The matrix, titled with `baseline` (accuracy beside the majority-class rate) when given."""
    plt = _pyplot()
    n = len(classes)
    size = max(4.0, 0.5 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if baseline:
        ax.set_title(baseline, fontsize=8, wrap=True)
    peak = max(1, max(max(row) for row in matrix))
    for i in range(n):
        for j in range(n):
            color = "white" if matrix[i][j] > peak / 2 else "black"
            ax.text(j, i, str(matrix[i][j]), ha="center", va="center", color=color)
    fig.tight_layout()
    _save(fig, plt, target)


def _save(fig, plt, target: Path) -> None:
    with atomic.replacing(target, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
