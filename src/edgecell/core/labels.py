"""Labels files: one class name a line, in output order."""

from pathlib import Path

from edgecell.core.errors import EdgecellError
from edgecell.core.regular_file import NotRegularFile, read_regular

MAX_LABELS_BYTES = 16 << 20  # 100,000 classes of 160 characters
MAX_LABEL_CHARS = 1000  # a label is printed on every line and written into every results row


def read_labels(path) -> list:
    path = Path(path)
    try:
        text = read_regular(path, MAX_LABELS_BYTES).decode("utf-8")
        labels = [line.strip() for line in text.splitlines() if line.strip()]
    except FileNotFoundError:
        raise EdgecellError(f"Labels file {path} does not exist.") from None
    except NotRegularFile as error:
        raise EdgecellError(f"Labels file {path} {error}; give a text file with one class name a line.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EdgecellError(f"Labels file {path} cannot be read ({error}).") from None
    long = next((n for n, label in enumerate(labels, 1) if len(label) > MAX_LABEL_CHARS), None)
    if long is not None:
        raise EdgecellError(
            f"Labels file {path} has a class name of {len(labels[long - 1])} characters (label {long}); "
            f"a class name may have at most {MAX_LABEL_CHARS}."
        )
    if not labels:
        raise EdgecellError(f"Labels file {path} is empty; it needs one class name a line.")
    return labels
