"""Which TFLite runtime runs the model: ai-edge-litert, tflite-runtime, or TensorFlow's own.

`auto` takes ai-edge-litert, then tflite-runtime; TensorFlow is used only when asked for with
`--runtime tf`, since importing it costs seconds and hundreds of megabytes on a board.
"""

from enum import Enum
from typing import NamedTuple

from edgecell.core.errors import EdgecellError


class Runtime(str, Enum):
    auto = "auto"
    litert = "litert"
    tflite_runtime = "tflite-runtime"
    tf = "tf"


class RuntimeInfo(NamedTuple):
    name: str  # the package: ai-edge-litert, tflite-runtime or tensorflow
    version: str


_INSTALL = {
    Runtime.litert: "pip install ai-edge-litert",
    Runtime.tflite_runtime: "pip install tflite-runtime",
    Runtime.tf: "pip install tensorflow",
}


def interpreter_class(runtime: Runtime = Runtime.auto):
    """(Interpreter class, RuntimeInfo) of the requested runtime."""
    runtime = Runtime(runtime)
    order = [Runtime.litert, Runtime.tflite_runtime] if runtime is Runtime.auto else [runtime]
    for candidate in order:
        try:
            return _import(candidate)
        except ImportError:
            continue
    if runtime is Runtime.auto:
        raise EdgecellError(
            "No TFLite runtime is installed; install one with: pip install ai-edge-litert "
            "(or pip install tflite-runtime on 32-bit ARM)."
        )
    raise EdgecellError(f"--runtime {runtime.value} is not installed here; install it with: {_INSTALL[runtime]}")


def _import(runtime: Runtime):
    if runtime is Runtime.litert:
        import ai_edge_litert
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, RuntimeInfo("ai-edge-litert", getattr(ai_edge_litert, "__version__", "unknown"))
    if runtime is Runtime.tflite_runtime:
        import tflite_runtime
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, RuntimeInfo("tflite-runtime", getattr(tflite_runtime, "__version__", "unknown"))
    import tensorflow as tf  # only when the user asks for --runtime tf

    return tf.lite.Interpreter, RuntimeInfo("tensorflow", tf.__version__)


def load(model_content: bytes, name: str, runtime: Runtime = Runtime.auto, threads=None):
    """An interpreter with tensors allocated, from the bytes of a .tflite; (interpreter, RuntimeInfo)."""
    cls, info = interpreter_class(runtime)
    try:
        interpreter = cls(model_content=model_content, num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EdgecellError(f"{name} cannot be loaded by {info.name} {info.version} ({reason[:300]}).") from None
    return interpreter, info
