"""`edgecell deploy` over a real OpenSSH server (tests/support/sshd.py) serving this machine as the board,
deploying into temporary prefixes: install from a wheel, prove, switch, roll back, fleets, faults.

The first board is installed once for the module, through device/install.sh, into a venv that sees
this interpreter's packages (as tests/device/test_board_kit.py does), so nothing is downloaded; the other
boards' prefixes link that venv, so each test deploys in a few seconds.
"""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import cv2
import pytest
from support import sshd
from support.cli import edgecell_command
from support.paths import REPO

from edgecell.deploy import fleet
from edgecell.deploy.ssh import Ssh
from edgecell.deploy.verify import sha256
from edgecell.models import DEMO_IMAGES, DEMO_MODEL

NAME = DEMO_MODEL.stem
DEMO_FILE = f"{sha256(DEMO_MODEL)}.tflite"

pytestmark = pytest.mark.skipif(bool(sshd.unavailable()), reason=sshd.unavailable() or "sshd runs here")


def run(*args, ok=True, **kwargs):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def deploy_cli(*args, ok=None):
    """The real command in a subprocess: (exit code, stdout, stderr)."""
    done = run(*edgecell_command("deploy", *args), ok=False)
    if ok is not None:
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, REPO)
    (path,) = dist.glob("edgecell-*.whl")
    return path


def host_venv(venv: Path) -> None:
    """A venv that sees this interpreter's packages: pip (this one) finds every dependency here."""
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    site = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip()
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(site, "test-host-packages.pth").write_text("\n".join(sorted(here)) + "\n")


@pytest.fixture(scope="module")
def first_board(server, wheel, tmp_path_factory):
    """(prefix, report) after deploying the demo model to a board without edgecell."""
    prefix = tmp_path_factory.mktemp("board") / "edgecell"
    host_venv(prefix / "venv")
    settings = fleet.Settings(prefix=str(prefix), wheel=wheel)
    (report,) = fleet.deploy(DEMO_MODEL, [fleet_host(server)], Ssh(server.config), settings)
    return prefix, report


def fleet_host(server, port=None):
    from edgecell.deploy.hosts import parse

    return parse(server.host(port))


@pytest.fixture
def board(first_board, tmp_path):
    """A fresh prefix on the board with edgecell already installed (the first board's venv)."""
    prefix = tmp_path / "board"
    prefix.mkdir()
    (prefix / "venv").symlink_to(first_board[0] / "venv")
    return prefix


def links(prefix: Path, name: str = NAME) -> tuple:
    folder = prefix / "models" / name
    return tuple(os.readlink(folder / ln) if (folder / ln).is_symlink() else None for ln in ("current", "previous"))


def installed_by_hand(prefix: Path, name: str = NAME) -> None:
    """The demo model already current on the board, as an earlier deploy leaves it."""
    folder = prefix / "models" / name
    folder.mkdir(parents=True)
    (folder / DEMO_FILE).write_bytes(DEMO_MODEL.read_bytes())
    (folder / "current").symlink_to(DEMO_FILE)


# ---- install, prove, switch, roll back ---------------------------------------------------------


@pytest.mark.slow
def test_a_board_without_edgecell_gets_it_from_the_wheel_and_the_model_proven_there(first_board):
    prefix, report = first_board
    assert report.status == "done", report.why
    assert "edgecell 0.1.0 installed" in report.why and f"switched {NAME}" in report.why
    assert (report.identical, report.checked) == (10, 10)
    assert report.p50_ms > 0 and report.p90_ms >= report.p50_ms
    assert report.runtime.startswith(("ai-edge-litert", "tflite-runtime")) and report.cpu == os.uname().machine
    assert links(prefix) == (DEMO_FILE, None)
    origin = run(prefix / "venv" / "bin" / "python", "-c", "import edgecell; print(edgecell.__file__)", cwd="/").stdout
    assert origin.startswith(str(prefix / "venv")), origin  # from the wheel, not this checkout
    assert (prefix / "edgecell-infer.service").is_file()  # install.sh wrote the unit
    assert not (prefix / "deploy").exists() or not any((prefix / "deploy").iterdir())  # nothing left staged


@pytest.mark.slow
def test_deploy_a_second_model_then_roll_back_and_forward(server, board, tmp_path):
    """v1, then v2 (same answers, other bytes) through the real command with --service on a board
    without systemd, then --rollback twice; every switch moves both links."""
    installed_by_hand(board, "digits")
    v2 = tmp_path / "digits_v2.tflite"
    v2.write_bytes(DEMO_MODEL.read_bytes() + bytes(16))  # trailing bytes: another file, the same network
    v2_file = f"{sha256(v2)}.tflite"
    report = tmp_path / "deploy.json"
    ssh = ("--ssh-config", server.config, "--prefix", board, "--name", "digits", "-q")
    code, out, _ = deploy_cli(v2, server.host(), *ssh, "--images", DEMO_IMAGES, "--service", "--json", report, ok=True)
    assert links(board, "digits") == (v2_file, DEMO_FILE)
    assert "no systemd running on this board: the service was not restarted" in out and "10/10" in out
    (row,) = json.loads(report.read_text())["boards"]
    assert row["status"] == "done" and row["previous"] == DEMO_FILE and row["new"] == v2_file
    assert row["identical"] == row["checked"] == 10 and row["p50_ms"] > 0

    code, out, _ = deploy_cli("--rollback", server.host(), *ssh, ok=True)
    assert links(board, "digits") == (DEMO_FILE, v2_file) and "rolled digits back" in out
    settings = fleet.Settings(prefix=str(board), name="digits", images=DEMO_IMAGES)
    (again,) = fleet.rollback([fleet_host(server)], Ssh(server.config), settings)  # and forward again
    assert again.ok and links(board, "digits") == (v2_file, DEMO_FILE)
    assert sorted(p.name for p in (board / "models" / "digits").glob("*.tflite")) == sorted([DEMO_FILE, v2_file])

    (same,) = fleet.deploy(v2, [fleet_host(server)], Ssh(server.config), settings)
    assert same.ok and "already the current model; nothing changed" in same.why


@pytest.mark.slow
def test_rollback_without_a_previous_model_changes_nothing(server, board):
    installed_by_hand(board)
    settings = fleet.Settings(prefix=str(board), name=NAME)
    (report,) = fleet.rollback([fleet_host(server)], Ssh(server.config), settings)
    assert report.status == "failed" and f"no previous model of {NAME}" in report.why
    assert links(board) == (DEMO_FILE, None)


# ---- fleets --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fleet_deploys_in_parallel_and_one_unreachable_board_stops_only_itself(server, board, tmp_path):
    closed = sshd.free_port()  # nothing listens there
    inventory = tmp_path / "boards.txt"
    inventory.write_text(f"# the fleet\n{server.host()}\n\n127.0.0.1:{closed}  # the broken one\n")
    report = tmp_path / "fleet.json"
    args = ("--inventory", inventory, "--ssh-config", server.config, "--prefix", board, "--parallel", "2")
    code, out, err = deploy_cli(DEMO_MODEL, *args, "--json", report)
    assert code == 1, out + err
    good, broken = json.loads(report.read_text())["boards"]
    assert good["status"] == "done" and links(board) == (DEMO_FILE, None)
    assert broken["status"] == "failed" and "connection refused" in broken["why"]
    assert f"127.0.0.1:{closed}: nothing answers SSH at 127.0.0.1 port {closed}" in out
    assert f"{server.host()}: done" in err and f"127.0.0.1:{closed}: failed" in err  # each as it finishes


# ---- faults: one sentence for that board, nothing half-switched ------------------------------------


def test_a_refused_key_is_one_sentence_and_nothing_is_touched(server, board):
    (report,) = fleet.deploy(
        DEMO_MODEL, [fleet_host(server)], Ssh(server.wrong_key_config), fleet.Settings(prefix=str(board))
    )
    assert report.status == "failed" and "refused the SSH key" in report.why and "ssh-copy-id" in report.why
    assert sorted(p.name for p in board.iterdir()) == ["venv"]


def test_a_model_corrupted_in_transit_is_refused_by_its_hash_and_current_stays(server, board, tmp_path):
    installed_by_hand(board)
    v2 = tmp_path / "digits_v2.tflite"
    v2.write_bytes(DEMO_MODEL.read_bytes() + bytes(16))
    settings = fleet.Settings(prefix=str(board), name=NAME, images=DEMO_IMAGES)
    (report,) = fleet.deploy(v2, [fleet_host(server, server.corrupting_port)], Ssh(server.config), settings)
    assert report.status == "failed" and "corrupted in transit" in report.why, report.why
    assert links(board) == (DEMO_FILE, None)
    assert sorted(p.name for p in (board / "models" / NAME).iterdir()) == sorted([DEMO_FILE, "current"])


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KB tmpfs, unmounted after the test."""
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip() or 'not root'})")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_board_without_room_for_the_model_is_told_before_anything_is_copied(server, first_board, small_disk):
    (small_disk / "venv").symlink_to(first_board[0] / "venv")
    settings = fleet.Settings(prefix=str(small_disk))
    (report,) = fleet.deploy(DEMO_MODEL, [fleet_host(server)], Ssh(server.config), settings)
    assert report.status == "failed" and "MB free under" in report.why and "free some space" in report.why
    assert sorted(p.name for p in small_disk.iterdir()) == ["venv"]


@pytest.mark.slow
def test_a_board_whose_answers_differ_is_stopped_then_fixed_by_an_upgrade(server, first_board, wheel, tmp_path):
    """A board with another image pipeline (its resize patched to nearest-neighbour, as a different
    OpenCV build might behave) classifies 45x45 images differently: the deploy stops there."""
    prefix = tmp_path / "odd-board"
    host_venv(prefix / "venv")
    run(prefix / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    (image_py,) = (prefix / "venv").glob("lib/python*/site-packages/edgecell/device/input/image.py")
    patched = image_py.read_text().replace("cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR", "cv2.INTER_NEAREST")
    assert patched != image_py.read_text()
    image_py.write_text(patched)
    installed_by_hand(prefix)
    images = tmp_path / "images"
    images.mkdir()
    for path in sorted(DEMO_IMAGES.glob("*.png")):
        cv2.imwrite(str(images / path.name), cv2.resize(cv2.imread(str(path)), (45, 45)))
    v2 = tmp_path / "digits_v2.tflite"
    v2.write_bytes(DEMO_MODEL.read_bytes() + bytes(16))
    settings = fleet.Settings(prefix=str(prefix), name=NAME, images=images)
    (report,) = fleet.deploy(v2, [fleet_host(server)], Ssh(server.config), settings)
    assert report.status == "failed" and "answers differently on" in report.why, report.why
    assert report.identical < report.checked == 10
    assert any(".png: scores differ by" in d or " there, " in d for d in report.differing)
    assert f"current left at {DEMO_FILE}" in report.why
    assert links(prefix) == (DEMO_FILE, None)
    assert sorted(p.name for p in (prefix / "models" / NAME).iterdir()) == sorted([DEMO_FILE, "current"])

    # The same board, its edgecell now an older version: deploy upgrades edgecell alone from the
    # wheel (the patched file goes with it), and the board then answers as this machine does.
    (metadata,) = image_py.parents[3].glob("edgecell-*.dist-info/METADATA")  # site-packages
    metadata.write_text(metadata.read_text().replace("\nVersion: 0.1.0\n", "\nVersion: 0.0.9\n", 1))
    settings = fleet.Settings(prefix=str(prefix), name=NAME, images=images, wheel=wheel)
    (upgraded,) = fleet.deploy(v2, [fleet_host(server)], Ssh(server.config), settings)
    assert upgraded.ok and "edgecell 0.1.0 upgraded from 0.0.9" in upgraded.why, upgraded.why
    assert (upgraded.identical, upgraded.checked) == (10, 10)
    assert "INTER_NEAREST" not in image_py.read_text() and links(prefix) == (f"{sha256(v2)}.tflite", DEMO_FILE)
