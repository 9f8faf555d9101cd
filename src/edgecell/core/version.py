"""The edgecell version, the one place it is set (pyproject reads it from here)."""

__version__ = "0.1.0"
