"""edgecell: from a folder of labelled pictures to a quantized classifier timed on a board."""

__version__ = "0.1.0"
