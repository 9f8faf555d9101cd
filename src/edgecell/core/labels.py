"""Labels files as people have them: one class name a line in output order, or pycoral's
`index label` lines (`0  person`, `1:bicycle`), whose indices may skip classes."""

import re
from pathlib import Path

from edgecell.core.errors import EdgecellError
from edgecell.core.regular_file import NotRegularFile, read_regular

MAX_LABELS_BYTES = 16 << 20  # 100,000 classes of 160 characters
MAX_LABEL_CHARS = 1000  # a label is printed on every line and written into every results row
_INDEXED = re.compile(r"^\s*(\d+)[\s:]+(\S.*?)\s*$")


def parse_labels(text: str) -> dict:
    """{output index: label} of a labels file's text.

    Every non-empty line `index label` (pycoral's `read_label_file` format): those indices, any
    order, gaps allowed. Otherwise one label a line, numbered from 0: a file where only some
    lines start with a number is a plain list.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    matches = [_INDEXED.match(line) for line in lines]
    if lines and all(matches):
        indexed = {}
        for match in matches:
            index = int(match.group(1))
            if index in indexed:
                raise ValueError(f"index {index} appears twice")
            indexed[index] = match.group(2)
        return indexed
    return dict(enumerate(lines))


def read_label_map(path) -> dict:
    """{output index: label} of a labels file given by a user (either format)."""
    path = Path(path)
    try:
        labels = parse_labels(_text(path))
    except ValueError as error:
        raise EdgecellError(f"Labels file {path} is not usable: {error}; give each index once.") from None
    _check(path, list(labels.values()))
    return labels


def as_list(labels: dict, count: int) -> list:
    """`count` labels in output order: gaps of an indexed file are named by their index."""
    return [labels.get(index, str(index)) for index in range(count)]


def read_labels(path) -> list:
    """A model folder's labels.txt: one class name a line (class folder names may start with digits)."""
    path = Path(path)
    labels = [line.strip() for line in _text(path).splitlines() if line.strip()]
    _check(path, labels)
    return labels


def _text(path: Path) -> str:
    try:
        return read_regular(path, MAX_LABELS_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise EdgecellError(f"Labels file {path} does not exist.") from None
    except NotRegularFile as error:
        raise EdgecellError(f"Labels file {path} {error}; give a text file with one class name a line.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EdgecellError(f"Labels file {path} cannot be read ({error}).") from None


def _check(path: Path, labels: list) -> None:
    long = next((n for n, label in enumerate(labels, 1) if len(label) > MAX_LABEL_CHARS), None)
    if long is not None:
        raise EdgecellError(
            f"Labels file {path} has a class name of {len(labels[long - 1])} characters (label {long}); "
            f"a class name may have at most {MAX_LABEL_CHARS}."
        )
    if not labels:
        raise EdgecellError(f"Labels file {path} is empty; it needs one class name a line.")
