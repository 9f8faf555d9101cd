"""Old spellings that scripts may still use, accepted for one release with one line on stderr.

Each is rewritten in the command line before Typer parses it, so the commands themselves know
only the current vocabulary (docs/development.md, "One CLI vocabulary").
"""

import sys

VARIANTS = {"int8", "float16", "dynamic", "float32"}
REMOVED_IN = "0.3"


def rewrite(argv: list, warn=lambda message: print(message, file=sys.stderr)) -> list:
    """`argv` (without the program name) with every deprecated spelling replaced."""
    if not argv:
        return argv
    command, args, out = argv[0], argv[1:], [argv[0]]
    i = 0
    while i < len(args):
        word, following = args[i], args[i + 1] if i + 1 < len(args) else None
        new = _replacement(command, word, following)
        if new is None:
            out.append(word)
            i += 1
            continue
        replaced, consumed = new
        old = " ".join(args[i : i + consumed])
        warn(f"edgecell {command}: `{old}` is deprecated and goes in {REMOVED_IN}; write `{' '.join(replaced)}`.")
        out += replaced
        i += consumed
    return out


def _replacement(command: str, word: str, following):
    """(new words, how many old words they replace), or None."""
    if command == "export" and word == "-q" and following in VARIANTS:
        return ["--quantize", following], 2
    if command == "info" and word == "--json" and _no_value(following):
        return ["--json", "-"], 1
    if command == "infer" and word == "--summary":
        return ["--json"], 1
    if command == "infer" and word.startswith("--summary="):
        return ["--json=" + word.split("=", 1)[1]], 1
    if command == "demo" and word == "--dir":
        return ["--out"], 1
    if command == "train" and word == "--arch" and following == "seed":
        return ["--arch", "tutorial"], 2
    if command == "train" and word == "--arch=seed":
        return ["--arch=tutorial"], 1
    return None


def _no_value(following) -> bool:
    """The old bare `info --json` switch: nothing after it, another option, or the model file."""
    return following is None or (following.startswith("-") and following != "-") or following.endswith(".tflite")
