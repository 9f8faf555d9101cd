"""edgecell: from a folder of labelled pictures to a quantized classifier timed on a board."""

from edgecell.core.version import __version__

__all__ = ["__version__"]
