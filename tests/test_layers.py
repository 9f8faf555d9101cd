"""The layers import one way (docs/development.md has the picture):

    cli, demo  ->  train, converters  ->  device  ->  core

Every module's imports are read with `ast`, those inside functions included, so a lazy import
that runs the wrong way fails here too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {  # source folder -> the package it installs as
    ROOT / "src" / "edgecell": "edgecell",
    ROOT / "device": "edgecell.device",
    ROOT / "converters": "edgecell.converters",
    ROOT / "models": "edgecell.models",
}
# What each layer may import of edgecell, besides itself.
ALLOWED = {
    "edgecell.core": set(),
    "edgecell.device": {"edgecell.core"},
    "edgecell.converters": {"edgecell.core", "edgecell.device"},
    "edgecell.train": {"edgecell.core", "edgecell.device"},
    "edgecell.models": {"edgecell.core"},
    # deploy runs on the laptop and drives boards: the local reference run uses the device's classifier
    "edgecell.deploy": {"edgecell.core", "edgecell.device", "edgecell.models"},
    # review labels collected frames on the laptop: files and a local page, nothing of the board's
    "edgecell.review": {"edgecell.core"},
    "edgecell": {"edgecell.core"},  # the package's __init__: the version only
}
TOP = {"edgecell.cli", "edgecell.digits_demo", "edgecell.__main__"}  # may import every layer
# The one module on the board side that may import TensorFlow: `--runtime tf`.
TENSORFLOW_ALLOWED = {"edgecell.device.model.runtime"}


def modules():
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            if package == "edgecell" and path.relative_to(folder).parts[0] in ("device", "converters", "models"):
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imported(path: Path) -> list:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += (
                [f"{node.module}.{alias.name}" for alias in node.names] if node.module == "edgecell" else [node.module]
            )
    return names


def layer(module: str) -> str:
    for name in sorted([*ALLOWED, *TOP], key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} belongs to no layer; add it to tests/test_layers.py")


MODULES = modules()


def test_every_layer_has_modules():
    layers = {layer(m) for m in MODULES}
    assert {"edgecell.core", "edgecell.device", "edgecell.converters", "edgecell.train", "edgecell.cli"} <= layers


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way(module):
    own = layer(module)
    if own in TOP:
        return
    wrong = []
    for name in imported(MODULES[module]):
        if name == "edgecell" or not name.startswith("edgecell."):
            continue
        target = layer(name)
        if target != own and target not in ALLOWED[own]:
            wrong.append(f"{name} ({target})")
    assert not wrong, f"{module} ({own}) imports up or across: {', '.join(wrong)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == "edgecell.device"))
def test_the_board_side_never_imports_tensorflow(module):
    heavy = [n for n in imported(MODULES[module]) if n.split(".")[0] in ("tensorflow", "keras", "tf_keras")]
    if module in TENSORFLOW_ALLOWED:
        return
    assert not heavy, f"{module} imports {', '.join(heavy)}; only {TENSORFLOW_ALLOWED} may, for --runtime tf"


def test_the_checker_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from edgecell.train.training import train\n    import tensorflow\n")
    assert imported(bad) == ["edgecell.train.training", "tensorflow"]
    assert layer("edgecell.train.training") == "edgecell.train" not in ALLOWED["edgecell.device"]


# The board side by stage (device/<stage>/): what each stage may import of the others.
STAGES = {
    "measure": set(),
    "input": {"measure"},
    "model": {"input", "measure"},
    "loop": {"input", "model", "measure"},
    "sinks": {"loop", "model", "input", "measure"},
    "connect": {"sinks", "loop", "model", "input", "measure"},  # never http
    "http": {"sinks", "loop", "model", "input", "measure"},  # never connect
}
DEVICE = ROOT / "device"


def stage(module: str):
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[:2] == ["edgecell", "device"] and parts[2] in STAGES else None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if stage(m)))
def test_stages_import_one_way(module):
    own = stage(module)
    wrong = [n for n in imported(MODULES[module]) if stage(n + ".x") not in (None, own, *STAGES[own])]
    assert not wrong, f"{module} ({own}) may import only {sorted(STAGES[own])} of the board's stages: {wrong}"


def test_the_board_side_reads_by_stage():
    top = [p.name for p in DEVICE.glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 8, f"device/ has {len(top)} modules at its top ({top}); put them in a stage folder"
    for folder in DEVICE.iterdir():
        if folder.is_dir() and (folder / "__init__.py").exists():
            inside = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            assert len(inside) <= 10, f"device/{folder.name}/ has {len(inside)} modules; split it"
    assert set(STAGES) <= {p.name for p in DEVICE.iterdir() if p.is_dir()}


def test_no_file_name_means_two_things():
    seen = {}
    for path in MODULES.values():
        if path.name != "__init__.py" and "_generated" not in path.parts:
            seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    twice = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not twice, f"file names used twice: {twice}"


def test_modules_are_imported_under_their_own_names():
    renamed = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("edgecell"):
                for alias in node.names:
                    generated = "_generated" in node.module  # flatc's long names read as `schema`
                    if alias.asname and f"{node.module}.{alias.name}" in MODULES and not generated:
                        renamed.append(f"{module}: {alias.name} as {alias.asname}")
    assert not renamed, f"modules imported under another name: {renamed}"


LONGEST = 80  # lines a function may take, its signature included; a longer one is split into named steps


def test_no_function_is_longer_than_a_screen():
    long = []
    for module, path in MODULES.items():
        if "_generated" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST:
                    long.append(f"{module}.{node.name} ({lines} lines)")
    assert not long, f"functions over {LONGEST} lines: {long}"


MOST_PARAMETERS = 9  # more travel together as a settings object (a dataclass or NamedTuple)


def test_no_function_takes_a_crowd_of_loose_arguments():
    """A command's function (cli/infer.py's `infer`) takes one parameter per flag: that is its
    interface, so it is left out; everything it calls takes grouped settings."""
    crowded = []
    for module, path in MODULES.items():
        if "_generated" in path.parts:
            continue
        command = module.rsplit(".", 1)[-1] if module.startswith("edgecell.cli.") else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != command:
                arguments = node.args
                named = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
                count = len([a for a in named if a.arg not in ("self", "cls")])
                if count > MOST_PARAMETERS:
                    crowded.append(f"{module}.{node.name} ({count})")
    assert not crowded, f"functions with more than {MOST_PARAMETERS} parameters: {crowded}"


TESTS = ROOT / "tests"
THEMES = {"faults", "support"}  # test folders that are not a code folder: the fault tests, and what tests share


def test_tests_mirror_the_code():
    """A test file sits in the folder of the code it tests (tests/device/<stage>/, tests/converters/,
    ...) or in a theme; pytest imports each by its file name, so no two share one."""
    code = {
        "device": ROOT / "device",
        "converters": ROOT / "converters",
        **{p.name: p for p in (ROOT / "src" / "edgecell").iterdir() if p.is_dir() and (p / "__init__.py").exists()},
    }
    misplaced, names = [], {}
    for path in TESTS.rglob("*.py"):
        folder = path.relative_to(TESTS).parts[:-1]
        names.setdefault(path.name, []).append(str(path.relative_to(TESTS)))
        if not folder or folder[0] in THEMES:
            continue
        mirrored = code.get(folder[0])
        if mirrored is None or not mirrored.joinpath(*folder[1:]).is_dir():
            misplaced.append(str(path.relative_to(TESTS)))
    assert not misplaced, f"test files in a folder no code folder matches: {misplaced}"
    twice = {name: paths for name, paths in names.items() if len(paths) > 1 and name != "__init__.py"}
    assert not twice, f"test file names used twice: {twice}"
