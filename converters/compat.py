"""Will a model load on a board's runtime? Its op versions against what that runtime registers.

Many boards still run tflite-runtime 2.14, and TensorFlow 2.21 writes op versions it does not
know (a dynamic-range model's FULLY_CONNECTED version 12, where 2.14 stops at 10). Export
reports this per variant, and `--target tflite-runtime-2.14` fails a variant that would not load.
"""

from enum import Enum
from typing import NamedTuple

from edgecell.converters import opcodes
from edgecell.converters.runtime_ops import TFLITE_RUNTIME_2_14


class Target(str, Enum):
    tflite_runtime_2_14 = "tflite-runtime-2.14"


TABLES = {Target.tflite_runtime_2_14: TFLITE_RUNTIME_2_14}
_NAMES = {code: name for name, (code, _, _) in TFLITE_RUNTIME_2_14.items()}


class Compatibility(NamedTuple):
    target: str
    loads: bool
    problems: list  # one sentence per op that the target cannot run

    def sentence(self) -> str:
        return "; ".join(self.problems)


def ops(content: bytes) -> list:
    """The model's (name, version) operator codes, named without needing a schema module."""
    return opcodes.read(content, _NAMES)


def compatibility(content: bytes, target: Target = Target.tflite_runtime_2_14) -> Compatibility:
    target = Target(target)
    table = TABLES[target]
    runtime = target.value.replace("-2.", " 2.")  # tflite-runtime 2.14
    by_code = {code: (name, low, high) for name, (code, low, high) in table.items()}
    problems = []
    for op in ops(content):
        if op.custom:
            problems.append(f"custom op {op.custom} needs a kernel registered by hand on {runtime}")
        elif op.code not in by_code:
            problems.append(f"op {op.name} does not exist in {runtime}")
        else:
            name, low, high = by_code[op.code]
            if not low <= op.version <= high:
                problems.append(
                    f"op {name} version {op.version} is not in {runtime}, which runs versions {low} to {high}"
                )
    return Compatibility(target.value, not problems, problems)
