r"""Text from outside (file names, labels from a model's metadata) made safe to print on a terminal.

A file name or label can hold escape sequences (`\x1b]0;...`, `\x1b[2J`) that a terminal would
run, bidirectional overrides that reorder what is shown, or bytes that are not UTF-8 (Python
keeps them as lone surrogates, which a UTF-8 stdout refuses with UnicodeEncodeError). Every
character that is not printable is shown as its Python escape instead: `\x1b`, `\u202e`, `\udcff`.
"""


def printable(text) -> str:
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text
    )
