"""The real CLI in its own process: the one place its command line is built."""

import sys


def edgecell_command(*args) -> list:
    """`python -m edgecell ARGS` with the interpreter running the tests, every argument a string."""
    return [sys.executable, "-m", "edgecell", *map(str, args)]
