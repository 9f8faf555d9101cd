"""Broken and hostile model files: one sentence naming the file and the problem, exit 2, for
`edgecell infer`, `info`, `bench` and `export`; a .keras file with code inside is refused unrun.

Every broken file is made from a real model: the shipped demo .tflite cut short, overwritten with
random bytes, rewired to give a feature map instead of class scores, or given metadata that is
not JSON or lists too few labels; a trained .keras cut short, replaced, or with half its weights.
"""

import io
import json
import os
import re
import zipfile

import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.models import DEMO_IMAGES, DEMO_MODEL

needs_demo = pytest.mark.skipif(not DEMO_MODEL.exists(), reason="the demo model is not in models/demo yet")
cli = CliRunner()


def not_a_classifier(content: bytes) -> bytes:
    """A valid .tflite of the same network whose output is the first convolution's feature map."""
    from edgecell.converters import flatbuffer

    model = flatbuffer.unpack(content)
    graph = model.subgraphs[0]
    graph.outputs = [graph.operators[1].outputs[0]]  # [1, 16, 16, 16]
    return flatbuffer.pack(model)


def with_metadata(content: bytes, data: bytes) -> bytes:
    from edgecell.converters import flatbuffer
    from edgecell.device.model.edgecell_metadata import METADATA_NAME

    return flatbuffer.set_metadata(content, METADATA_NAME, data)


def three_labels(content: bytes) -> bytes:
    from edgecell.device.model import edgecell_metadata

    meta = edgecell_metadata.read(content)
    meta["labels"] = meta["labels"][:3]  # the model has 10 outputs
    return with_metadata(content, json.dumps(meta).encode())


BROKEN_TFLITE = {  # name -> (make from the demo model's bytes, what the sentence must say)
    "truncated": (lambda c: c[: len(c) // 2], "is not usable: its flatbuffer is truncated or corrupt"),
    "tail_cut": (lambda c: c[:-200], "truncated or corrupt|cannot be loaded by .* not a valid Flatbuffer"),
    "random": (lambda c: os.urandom(len(c)), "is not usable: it is not a TFLite flatbuffer"),
    "empty": (lambda c: b"", "is not usable: it is not a TFLite flatbuffer"),
    "not_classifier": (
        not_a_classifier,
        "is not an image classifier: it takes [1, 32, 32, 3] and gives [1, 16, 16, 16]",
    ),
    "bad_json": (lambda c: with_metadata(c, b'{"labels": ["0", "1"'), "its edgecell metadata is not valid JSON"),
    "few_labels": (three_labels, "has 10 outputs but edgecell metadata lists 3 labels"),
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken")
    content = DEMO_MODEL.read_bytes()
    return {name: _write(folder / f"{name}.tflite", make(content)) for name, (make, _) in BROKEN_TFLITE.items()}


def _write(path, data):
    path.write_bytes(data)
    return path


def assert_one_sentence(result, path, message):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert str(path) in errors[0] and (message in errors[0] or re.search(message, errors[0])), errors[0]


@needs_demo
@pytest.mark.parametrize("command", ["infer", "info", "bench"])
@pytest.mark.parametrize("name", list(BROKEN_TFLITE))
def test_broken_tflite_is_one_sentence_and_exit_2(broken, command, name):
    path = broken[name]
    args = {
        "infer": ["infer", str(sorted(DEMO_IMAGES.glob("*.png"))[0]), "--model", str(path), "-q"],
        "info": ["info", str(path)],
        "bench": ["bench", str(path), "--runs", "2", "--warmup", "0"],
    }[command]
    assert_one_sentence(cli.invoke(app, args), path, BROKEN_TFLITE[name][1])


# --- .keras files: export, and Keras' safe mode ------------------------------------------------


@pytest.fixture(scope="module")
def keras_bytes(tmp_path_factory):
    """The bytes of a small three-class .keras file."""
    keras = pytest.importorskip("keras")
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    model.save(path)
    return path.read_bytes()


def half_weights(content: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, data[: len(data) // 2] if item.filename.endswith(".h5") else data)
    return out.getvalue()


BROKEN_KERAS = {
    "truncated": (lambda c: c[: len(c) // 2], "is not a Keras model file (not a complete .keras zip archive"),
    "random": (lambda c: os.urandom(len(c)), "is not a Keras model file"),
    "half_weights": (
        half_weights,
        "cannot be loaded as a Keras model (Unable to synchronously open file (truncated file",
    ),
}


@pytest.mark.tf
@pytest.mark.parametrize("name", list(BROKEN_KERAS))
def test_damaged_keras_file_is_one_sentence_for_export(keras_bytes, tmp_path, name):
    make, message = BROKEN_KERAS[name]
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    (tmp_path / "model.keras").write_bytes(make(keras_bytes))
    result = cli.invoke(app, ["export", str(tmp_path)])
    assert_one_sentence(result, tmp_path / "model.keras", message)
    assert not (tmp_path / "export").exists()


@pytest.mark.tf
def test_a_keras_file_with_a_lambda_layer_is_refused_and_its_code_never_runs(tmp_path):
    """The Lambda writes a marker file whenever it runs; loading through edgecell must not run it."""
    keras = pytest.importorskip("keras")
    from edgecell.core import modelfolder
    from edgecell.core.errors import EdgecellError

    marker = tmp_path / "code-ran"
    payload = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")  # noqa: S307
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Lambda(payload),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    model.save(tmp_path / "model.keras")
    marker.unlink()  # building the model ran it; from here on nothing may

    with pytest.raises(
        EdgecellError,
        match="contains Python code .a Lambda layer or a custom function., which edgecell never runs from a model file",
    ):
        modelfolder.load_keras(tmp_path)
    result = cli.invoke(app, ["export", str(tmp_path)])
    assert_one_sentence(result, tmp_path / "model.keras", "contains Python code")
    assert not marker.exists()

    # The file really carries code that runs: Keras' unsafe mode executes it on loading.
    keras.models.load_model(tmp_path / "model.keras", safe_mode=False, compile=False)
    assert marker.exists()


@pytest.mark.tf
@pytest.mark.parametrize(
    "module, name, config",
    [
        ("os", "system", "touch {marker}"),
        ("builtins", "exec", "open({marker!r}, 'w')"),
        ("subprocess", "run", ["touch", "{marker}"]),
    ],
)
def test_a_crafted_config_naming_a_python_function_is_refused_unrun(keras_bytes, tmp_path, module, name, config):
    """The file's config.json asks for os.system (or exec, subprocess.run) as a layer's activation."""
    marker = tmp_path / "code-ran"
    config = (
        [part.format(marker=str(marker)) for part in config]
        if isinstance(config, list)
        else config.format(marker=str(marker))
    )
    source, out = zipfile.ZipFile(io.BytesIO(keras_bytes)), io.BytesIO()
    crafted = json.loads(source.read("config.json"))
    crafted["config"]["layers"][-1]["config"]["activation"] = {
        "module": module,
        "class_name": name,
        "config": config,
        "registered_name": name,
    }
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(
                item.filename, json.dumps(crafted) if item.filename == "config.json" else source.read(item.filename)
            )
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    (tmp_path / "model.keras").write_bytes(out.getvalue())
    result = cli.invoke(app, ["export", str(tmp_path)])
    assert_one_sentence(result, tmp_path / "model.keras", "cannot be loaded as a Keras model")
    assert not marker.exists()


@pytest.mark.tf
def test_a_keras_file_whose_config_inflates_to_gigabytes_is_refused_unread(keras_bytes, tmp_path):
    """A few hundred kilobytes whose config.json inflates to 200 MB (whitespace is valid JSON)."""
    from edgecell.core import modelfolder
    from edgecell.core.errors import EdgecellError

    source, out = zipfile.ZipFile(io.BytesIO(keras_bytes)), io.BytesIO()
    config = source.read("config.json")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as crafted:
        for item in source.infolist():
            if item.filename == "config.json":
                with crafted.open("config.json", "w", force_zip64=True) as member:
                    for _ in range(200):
                        member.write(b" " * (1 << 20))
                    member.write(config)
            else:
                crafted.writestr(item, source.read(item.filename))
    (tmp_path / "model.keras").write_bytes(out.getvalue())
    (tmp_path / "labels.txt").write_text("blue\ngreen\nred\n")
    assert (tmp_path / "model.keras").stat().st_size < 2 << 20
    with pytest.raises(EdgecellError, match="holds a config.json that inflates to 200 MB, over the 64 MB"):
        modelfolder.load_keras(tmp_path)


@pytest.mark.tf
def test_a_safe_mode_refusal_keeps_keras_reason(tmp_path):
    keras = pytest.importorskip("keras")
    from edgecell.core import modelfolder
    from edgecell.core.errors import EdgecellError

    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)])
    model.save(tmp_path / "model.keras")
    (tmp_path / "labels.txt").write_text("a\nb\n")
    with pytest.raises(EdgecellError) as refused:
        modelfolder.load_keras(tmp_path)
    message = str(refused.value)
    assert "Keras' safe mode: " in message and "Lambda" in message.split("Keras' safe mode: ")[1]
    assert "\n" not in message
