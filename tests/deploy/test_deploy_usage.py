"""`edgecell deploy` without a board: host names, the comparison rule, and usage errors (exit 2)."""

import pytest
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.core.errors import EdgecellError
from edgecell.deploy import hosts, verify
from edgecell.models import DEMO_IMAGES, DEMO_MODEL


@pytest.mark.parametrize(
    "spec, destination, port",
    [
        ("pi@board.local", "pi@board.local", None),
        ("pi@10.0.0.7:2222", "pi@10.0.0.7", 2222),
        ("kitchen-pi", "kitchen-pi", None),
        ("root@[::1]:22", "root@::1", 22),
    ],
)
def test_hosts_are_user_at_host_with_an_optional_port(spec, destination, port):
    assert hosts.parse(spec)[1:] == (destination, port)


@pytest.mark.parametrize("spec", ["-oProxyCommand=touch /tmp/x", "pi@board:99999", "pi@", "a b", "pi@board:"])
def test_anything_else_is_one_sentence(spec):
    with pytest.raises(EdgecellError, match="port|is not a board"):
        hosts.parse(spec)


def test_an_inventory_adds_its_boards_once_each(tmp_path):
    inventory = tmp_path / "boards.txt"
    inventory.write_text("# kitchen\npi@a\n\npi@b:2222  # garage\npi@a\n")
    assert [h.spec for h in hosts.collect(["pi@a"], inventory)] == ["pi@a", "pi@b:2222"]


def reference(step=1 / 256):
    answers = {"a.png": [("0", 0.5)], "b.png": [("1", 0.9)]}
    return verify.Reference({"a.png": "a.png", "b.png": "b.png"}, answers, step, 1)


def row(name, label, score):
    return {"source": f"/board/{name}", "status": "ok", "label": label, "top_k": [{"label": label, "score": score}]}


def test_scores_within_one_output_step_are_the_same_answer_and_a_label_or_two_steps_are_not():
    same = verify.compare(reference(), [row("a.png", "0", 0.5 + 1 / 256), row("b.png", "1", 0.9)])
    assert same.ok and (same.identical, same.total) == (2, 2)
    differ = verify.compare(reference(), [row("a.png", "0", 0.5 + 2 / 256), row("b.png", "7", 0.9)])
    assert (differ.identical, differ.total) == (0, 2)
    assert differ.differing == ["a.png: scores differ by 0.0078 (one step is 0.0039)", "b.png: 7 there, 1 here"]
    missing = verify.compare(reference(), [row("a.png", "0", 0.5)])
    assert missing.differing == ["b.png: failed on the board (no answer)"]


def test_the_demo_model_is_proven_on_the_demo_images():
    assert verify.held_out_images(DEMO_MODEL) == sorted(DEMO_IMAGES.glob("*.png"))


@pytest.mark.parametrize(
    "args, words",
    [
        ([], "Give the MODEL.tflite to deploy"),
        ([str(DEMO_MODEL)], "No board given"),
        ([str(DEMO_MODEL), "--", "-oProxyCommand=x"], "is not a board"),
        ([str(DEMO_IMAGES), "pi@board"], "is not a .tflite file"),
        ([str(DEMO_MODEL), "pi@board", "--name", "../x"], "is not a folder name"),
    ],
)
def test_usage_errors_exit_2_with_one_sentence(args, words):
    result = CliRunner().invoke(app, ["deploy", *args])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_a_model_without_held_out_images_asks_for_them(tmp_path):
    model = tmp_path / "other.tflite"
    model.write_bytes(DEMO_MODEL.read_bytes() + bytes(8))
    result = CliRunner().invoke(app, ["deploy", str(model), "pi@board"])
    assert result.exit_code == 2 and "give a few dozen labelled images with --images DIR" in result.output
