"""Labels files: one class name a line, in output order."""

from pathlib import Path

from edgecell.core.errors import EdgecellError


def read_labels(path) -> list:
    path = Path(path)
    try:
        labels = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise EdgecellError(f"Labels file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EdgecellError(f"Labels file {path} cannot be read ({error}).") from None
    if not labels:
        raise EdgecellError(f"Labels file {path} is empty; it needs one class name a line.")
    return labels
