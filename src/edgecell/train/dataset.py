"""The stratified, deterministic split of a class-folder dataset (seed 4 and a 0.2 test fraction
by default, as in the tutorial this project grew out of). It is written to `split.json`
(`edgecell.core.split`) so export evaluates on exactly the held-out images and calibrates only on
training images. Scanning the folder is `edgecell.device.input.classfolder`.
"""

import numpy as np

from edgecell.core.errors import EdgecellError
from edgecell.core.split import Split
from edgecell.device.input.classfolder import Dataset


def split(dataset: Dataset, test_fraction: float = 0.2, val_fraction: float = 0.1, seed: int = 4) -> Split:
    """Stratified, deterministic split: each class is shuffled with `seed` and cut by fraction.

    Every class with at least two images keeps one in training and puts at least one in the
    test set; `val_fraction` of the training part (at least one image where a class has three
    or more) is kept for early stopping.
    """
    if not 0.0 < test_fraction < 1.0:
        raise EdgecellError(f"--test-split {test_fraction} is out of range; give a fraction between 0 and 1, e.g. 0.2.")
    if not 0.0 <= val_fraction < 1.0:
        raise EdgecellError(f"Validation fraction {val_fraction} is out of range; give a fraction in [0, 1).")
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for label in range(len(dataset.classes)):
        members = [s for s in dataset.samples if s.label == label]
        order = rng.permutation(len(members))
        members = [members[i] for i in order]
        n = len(members)
        n_test = min(n - 1, max(1, round(n * test_fraction))) if n >= 2 else 0
        rest = n - n_test
        n_val = min(rest - 1, max(1, round(rest * val_fraction))) if (val_fraction > 0 and rest >= 2) else 0
        test += members[:n_test]
        val += members[n_test : n_test + n_val]
        train += members[n_test + n_val :]
    key = lambda s: (s.label, s.path)  # noqa: E731
    return Split(
        classes=list(dataset.classes),
        train=sorted(train, key=key),
        val=sorted(val, key=key),
        test=sorted(test, key=key),
        seed=seed,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        root=str(dataset.root.resolve()),
    )
