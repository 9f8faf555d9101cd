import shutil

import pytest
from support.imagegen import colour_dataset

# `mosquitto`: a real broker on a free loopback port; `serve`: the HTTP server; `browser`: headless Chromium;
# `server` and `hostile`: a loopback SSH board and what it does before each command
pytest_plugins = ["support.mosquitto", "support.serving", "support.chromium", "support.sshd"]


@pytest.fixture(scope="session")
def colour_data(tmp_path_factory):
    """Three classes (blue, green, red) that differ only by colour, 20 PNGs each at 32x32."""
    return colour_dataset(tmp_path_factory.mktemp("colours") / "data")


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, colour_data):
    """A small edge network trained on `colour_data`: the model folder `edgecell train` writes."""
    pytest.importorskip("tensorflow")
    from edgecell.train.config import TrainConfig
    from edgecell.train.training import train

    out = tmp_path_factory.mktemp("trained") / "model"
    config = TrainConfig(data_dir=str(colour_data), out_dir=str(out), img_size=32, epochs=12, batch_size=8)
    train(config, verbose=0, log=lambda *_: None)
    return out


@pytest.fixture
def model_copy(trained_dir, tmp_path):
    """A throwaway copy of `trained_dir` a test may change."""
    return shutil.copytree(trained_dir, tmp_path / "model")


@pytest.fixture(scope="session")
def exported_dir(tmp_path_factory, trained_dir):
    """A copy of `trained_dir` after `edgecell export --all` (~20 s): the models are in
    `exported_dir / "export"` (model_float32/float16/dynamic/int8.tflite, labels.txt,
    export_report.json); `exported_dir / "export" / "export_report.json"` says how each did."""
    pytest.importorskip("tensorflow")
    from edgecell.converters.context import Settings
    from edgecell.converters.convert import ALL
    from edgecell.converters.export_run import export

    out = shutil.copytree(trained_dir, tmp_path_factory.mktemp("exported") / "model")
    export(out, Settings(variants=ALL), log=lambda *_: None)
    return out


@pytest.fixture(scope="session")
def tflite_runtime_python():
    """The python of a venv with tflite-runtime 2.14, numpy < 2 and this repo (as on many boards).

    Built once under ~/.cache/edgecell-tests/ (a minute of pip installs) and reused after that.
    """
    from support.venvs import TFLITE_RUNTIME_214, base_python, runtime_venv

    python = base_python()
    if python is None:
        pytest.skip("tflite-runtime 2.14 has wheels for Python 3.8 to 3.11 only, and no python3.11 is installed here")
    try:
        return runtime_venv("tflite-runtime-2.14", TFLITE_RUNTIME_214, python)
    except RuntimeError as error:
        pytest.fail(f"Could not build the tflite-runtime 2.14 test venv: {error}")


@pytest.fixture(scope="session")
def foreign_tflite(tmp_path_factory, trained_dir, colour_data):
    """{'float', 'int8', 'labels'}: classifiers of `colour_data` without edgecell metadata that take
    (pixel - 127.5) / 127.5 (tests/support/tflite_models.py)."""
    from support.tflite_models import foreign_models

    return foreign_models(trained_dir, colour_data, tmp_path_factory.mktemp("foreign"))


@pytest.fixture(scope="session")
def device_model(request):
    """(model, extra `edgecell infer` arguments): the shipped demo model, or, where it is not
    there yet, `foreign_tflite`'s float model with its labels and normalisation (needs TensorFlow)."""
    from edgecell.models import DEMO_MODEL

    if DEMO_MODEL.exists():
        return DEMO_MODEL, []
    pytest.importorskip("tensorflow")
    paths = request.getfixturevalue("foreign_tflite")
    return paths["float"], ["--labels", str(paths["labels"]), "--mean", "127.5", "--std", "127.5"]
