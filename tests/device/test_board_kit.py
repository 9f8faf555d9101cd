"""The board kit: device/install.sh run against a temporary prefix, and the systemd unit it writes,
checked by systemd-analyze and run the way systemd would run it (environment, size cap, rotation).

The install uses a wheel built here and a venv that sees this interpreter's packages, so pip finds
every dependency installed and downloads nothing. The emulated arm64/armhf boards are
scripts/emulate_pi.sh (minutes, not for every run); the picamera2 path is tested in test_infer.
"""

import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.paths import REPO

from edgecell.models import DEMO_IMAGES, DEMO_MODEL

INSTALL = REPO / "device" / "install.sh"
UNIT = "edgecell-infer.service"
SERVICE_USER = "daemon"  # an account that is not root (nor nobody, which systemd calls unsafe), on every Debian


def run(*args, ok=True, **kwargs):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def plan(*args):
    """install.sh --dry-run: (exit code, what it prints)."""
    done = run("bash", INSTALL, "--prefix", "/nonexistent/edgecell", "--from", REPO, "--dry-run", *args, ok=False)
    return done.returncode, done.stdout + done.stderr


# ---- the plan for each CPU (no install) ------------------------------------------------------------


def test_64_bit_board_gets_ai_edge_litert_from_edgecells_own_requirements():
    code, out = plan("--machine", "aarch64")
    assert code == 0, out
    assert "-m venv /nonexistent/edgecell/venv" in out and "--system-site-packages" not in out
    assert f"pip install --disable-pip-version-check {REPO}" in out
    assert "--no-deps" not in out and "tflite-runtime" not in out


def test_picamera_keeps_numpy_below_2_and_sees_apts_picamera2():
    code, out = plan("--machine", "aarch64", "--picamera")
    assert code == 0, out
    assert "-m venv --system-site-packages" in out
    assert "numpy\\<2" in out
    assert "python3-picamera2" in out


def test_32_bit_board_gets_tflite_runtime_and_debians_numpy_and_opencv():
    code, out = plan("--machine", "armv7l")
    assert code == 0, out
    assert "-m venv --system-site-packages" in out
    assert f"--no-deps {REPO}" in out
    assert "tflite-runtime==2.14.0 numpy\\<2 typer\\>=0.12" in out
    assert "python3-numpy python3-opencv" in out


@pytest.mark.parametrize(
    "args, code, words",
    [
        (("--machine", "armv6l"), 3, "armv6l (Pi Zero or Pi 1)"),
        (("--machine", "riscv64"), 3, "no TFLite runtime plan for CPU 'riscv64'"),
        (("--colour",), 2, "unknown option --colour"),
        (("--prefix", "/opt/my edgecell"), 2, "--prefix '/opt/my edgecell' holds a character a systemd unit line"),
        (("--prefix", "/opt/a|b&c"), 2, "--prefix '/opt/a|b&c' holds a character a systemd unit line"),
        (("--user", "nobody"), 2, "--user 'nobody' cannot run the service"),
        (("--serve", "8080;reboot"), 2, "--serve '8080;reboot' is not [HOST:]PORT"),
    ],
)
def test_unsupported_cpus_and_options_are_one_sentence(args, code, words):
    got, out = plan(*args)
    assert got == code and words in out and "Traceback" not in out


@pytest.mark.skipif(os.geteuid() != 0, reason="the refusal is of an install run as root")
def test_run_as_root_without_user_is_refused_before_anything_is_written(tmp_path):
    done = run("bash", INSTALL, "--prefix", tmp_path / "edgecell", "--from", REPO, ok=False)
    assert done.returncode == 2 and "would write a service running as root; pass --user NAME" in done.stderr
    assert not (tmp_path / "edgecell").exists()


# ---- a real install into a temporary prefix --------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, REPO)
    (path,) = dist.glob("edgecell-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """(prefix, install.sh's output) after installing the wheel into PREFIX/venv.

    The venv is made first so that it sees this interpreter's packages (its site packages and a
    .pth naming this environment's): install.sh then reuses it, as it does on a second run.
    """
    prefix = tmp_path_factory.mktemp("board") / "edgecell"
    venv = prefix / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", venv)
    site = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip()
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(site, "test-host-packages.pth").write_text("\n".join(sorted(here)) + "\n")
    env = {**os.environ, "PIP_NO_INDEX": "1"}  # everything must come from the wheel and what is here
    done = run(
        "bash",
        INSTALL,
        "--prefix",
        prefix,
        "--from",
        wheel,
        "--system-site-packages",
        "--python",
        sys.executable,
        *("--mqtt", "mqtt://board:s3cret@127.0.0.1:9/edgecell", "--device-id", "pi-test", "--ha-discovery"),
        *("--serve", "0.0.0.0:8080"),  # written into the unit, never bound by these tests
        *(["--user", SERVICE_USER] if os.geteuid() == 0 else []),
        env=env,
    )
    return prefix, done.stdout


@pytest.mark.slow
def test_the_wheel_ships_the_install_script_and_the_unit(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "edgecell/device/install.sh" in names
    assert f"edgecell/device/{UNIT}" in names


@pytest.mark.slow
def test_install_says_what_it_did_and_the_venv_runs_edgecell_from_the_wheel(installed):
    prefix, out = installed
    venv = prefix / "venv"
    assert "Installed edgecell 0.1.0 for" in out and f"into {venv}" in out
    assert "Reusing the virtual environment" in out
    origin = run(venv / "bin" / "python", "-c", "import edgecell; print(edgecell.__file__)", cwd=prefix).stdout
    assert origin.startswith(str(venv)), origin
    assert (venv / "bin" / "edgecell").exists() and (prefix / "results").is_dir()


@pytest.mark.slow
def test_the_installed_command_classifies_the_demo_images_as_here(installed, tmp_path):
    from edgecell.device.input.image import load_rgb
    from edgecell.device.model.classifier import Classifier

    prefix, _ = installed
    results = tmp_path / "demo.jsonl"
    run(
        prefix / "venv" / "bin" / "edgecell",
        "infer",
        DEMO_IMAGES,
        "--model",
        "demo",
        "--output",
        results,
        "--quiet",
        cwd=tmp_path,
    )
    rows = {Path(r["source"]).name: r for r in map(json.loads, results.read_text().splitlines())}
    classifier = Classifier(DEMO_MODEL)
    assert len(rows) == len(list(DEMO_IMAGES.glob("*.png"))) > 0
    for path in sorted(DEMO_IMAGES.glob("*.png")):
        best = classifier.labels[int(np.argmax(classifier.classify(load_rgb(path))))]
        assert rows[path.name]["label"] == best, path.name


@pytest.mark.slow
def test_following_the_undo_lines_removes_the_install(installed, tmp_path):
    prefix, out = installed
    copy = tmp_path / "edgecell"
    shutil.copytree(prefix, copy, symlinks=True)
    undo = out.split("To undo:", 1)[1].strip().splitlines()
    (remove,) = [line.strip() for line in undo if line.strip().startswith("rm -rf")]
    run("sh", "-c", remove.replace(str(prefix), str(copy)))
    assert list(copy.iterdir()) == []


# ---- the unit -------------------------------------------------------------------------------------


def read_unit(path: Path) -> dict:
    """{section: [(key, value), ...]} keeping repeated keys (Environment=) in order."""
    sections, current = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        else:
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def environment(service) -> dict:
    env = {}
    for key, value in service:
        if key == "Environment":
            name, _, val = shlex.split(value)[0].partition("=")
            env[name] = val
    return env


def env_file(prefix: Path) -> dict:
    """edgecell.env as a POSIX shell reads it, which is how systemd.exec(5) says EnvironmentFile= reads it."""
    done = run("env", "-i", "sh", "-c", 'set -a; . "$1"; env -0', "sh", prefix / "edgecell.env")
    names = {line.split("=", 1)[0] for line in (prefix / "edgecell.env").read_text().splitlines() if "=" in line}
    pairs = (item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
    return {name: value for name, value in pairs if name in names}


def expand(command: str, env: dict) -> list:
    """systemd's ExecStart expansion: ${NAME} is one word, $NAME is split on spaces, $$ is $."""
    words = []
    for word in shlex.split(command):
        if word.startswith("${") and word.endswith("}"):
            words.append(env[word[2:-1]])
        elif word.startswith("$") and not word.startswith("$$"):
            words.extend(env[word[1:]].split())
        else:
            words.append(word.replace("$$", "$"))
    return words


@pytest.mark.slow
def test_the_written_unit_verifies_and_names_this_install(installed):
    prefix, _ = installed
    unit = prefix / UNIT
    assert not re.search(r"@[A-Z_]+@", unit.read_text().split("[Unit]", 1)[1])  # every @NAME@ filled in
    if shutil.which("systemd-analyze"):
        done = run("systemd-analyze", "verify", unit, ok=False)
        assert done.returncode == 0 and UNIT not in done.stderr, done.stderr
    service = dict(read_unit(unit)["Service"])
    assert service["Restart"] == "on-failure" and service["StandardOutput"] == "journal"
    assert service["ExecStart"].startswith(f"{prefix}/venv/bin/edgecell infer ")
    assert Path(environment(read_unit(unit)["Service"])["EDGECELL_MODEL"]).exists()
    assert read_unit(unit)["Install"] == [("WantedBy", "multi-user.target")]


@pytest.mark.slow
def test_the_mqtt_settings_and_the_password_kept_out_of_the_unit(installed):
    prefix, out = installed
    env = environment(read_unit(prefix / UNIT)["Service"])
    assert env["EDGECELL_DEVICE_ID"] == "" and env["EDGECELL_HA_DISCOVERY"] == "1"
    assert env["EDGECELL_MQTT"] == "" and "s3cret" not in (prefix / UNIT).read_text()
    settings = env_file(prefix)  # overrides the unit's empty values
    assert settings["EDGECELL_MQTT"] == "mqtt://board:s3cret@127.0.0.1:9/edgecell"
    assert settings["EDGECELL_DEVICE_ID"] == "pi-test"
    assert (prefix / "edgecell.env").stat().st_mode & 0o777 == 0o600 and "mode 600" in out
    assert "s3cret" not in out


@pytest.mark.slow
def test_serving_beyond_the_board_gets_a_token_kept_out_of_the_unit(installed):
    prefix, out = installed
    assert environment(read_unit(prefix / UNIT)["Service"])["EDGECELL_SERVE"] == "0.0.0.0:8080"
    secrets = env_file(prefix)
    assert re.fullmatch(r"[0-9a-f]{32}", secrets["EDGECELL_TOKEN"]) and "EDGECELL_MQTT" in secrets  # both kept
    assert secrets["EDGECELL_TOKEN"] in out and secrets["EDGECELL_TOKEN"] not in (prefix / UNIT).read_text()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_written_unit_is_locked_down_to_an_exposure_of_4_or_lower(installed):
    prefix, _ = installed
    service = dict(read_unit(prefix / UNIT)["Service"])
    assert (
        service["User"] != "root"
        and service["ReadWritePaths"] == f"{prefix}/results {prefix}/outbox {prefix}/collected"
    )
    assert service["ProtectHome"] in ("yes", "read-only") and service["NoNewPrivileges"] == "yes"
    done = run("systemd-analyze", "security", "--offline=true", prefix / UNIT, ok=False)
    score = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout).group(1))
    print(f"systemd-analyze security: {score}")
    assert score <= 4.0, done.stdout[-3000:]
    if os.geteuid() == 0:
        for folder in ("results", "outbox"):  # the folders it writes
            assert (prefix / folder).stat().st_uid == pwd.getpwnam(SERVICE_USER).pw_uid


@pytest.mark.slow
def test_the_service_command_caps_its_results_and_a_restart_appends(installed, tmp_path):
    """What systemd does, done by hand: the unit's environment and ExecStart, a video file
    standing in for the camera, a cap of 4 KB; then the restart systemd would make."""
    prefix, _ = installed
    service = read_unit(prefix / UNIT)["Service"]
    env = environment(service)
    # and EnvironmentFile=: the broker URL with its password (a closed loopback port: results wait on disk)
    env.update(env_file(prefix))
    assert env["EDGECELL_MAX_OUTPUT_MB"] == "64"
    clip = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 100, (64, 48))
    for i in range(200):
        writer.write(np.full((48, 64, 3), i, np.uint8))
    writer.release()
    cap = 4096
    env.update(
        EDGECELL_CAMERA=f"--camera {clip}",
        EDGECELL_MAX_FPS="100",
        EDGECELL_MAX_OUTPUT_MB=str(cap / 2**20),
        EDGECELL_RESULTS=str(tmp_path / "results" / "results.jsonl"),
        EDGECELL_SERVE="127.0.0.1:0",  # the live page too, with the unit's token, on loopback only
    )
    command = expand(dict(service)["ExecStart"], env) + ["--limit", "60"]  # a video file would replay forever
    results = Path(env["EDGECELL_RESULTS"])
    older = Path(f"{results}.1")

    def rows():
        return [json.loads(line) for f in (older, results) if f.exists() for line in f.read_text().splitlines()]

    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Serving the live page on http://127.0.0.1:" in done.stderr  # EDGECELL_SERVE, with the token
    assert 0 < results.stat().st_size <= cap and 0 < older.stat().st_size <= cap
    first = rows()
    assert len(first) > 10 and all(row["status"] in ("ok", "failed") for row in first)

    before = results.read_bytes()
    command[-1] = "2"  # a short second run: at most one rotation
    again = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert results.stat().st_size <= cap and older.stat().st_size <= cap  # still at most twice the cap
    # The restart appended: the rows already there now begin the current file, or the one it rotated to.
    assert results.read_bytes().startswith(before) or older.read_bytes().startswith(before)
    assert results.read_bytes() != before
