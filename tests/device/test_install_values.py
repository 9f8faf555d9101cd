"""device/install.sh given hostile values (spaces, '=', %, a trailing backslash, quotes, $, a
newline): each refused before anything is made, or written to edgecell.env exactly as given, and
the unit still verified by systemd-analyze. `--unit-only` writes the unit and edgecell.env alone
(no venv, no pip), so each case takes a moment; one case runs the full install to show that a
refused value stops it before the venv.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.paths import REPO

INSTALL = REPO / "device" / "install.sh"
UNIT = "edgecell-infer.service"
USER = ["--user", "daemon"] if os.geteuid() == 0 else []


def install(prefix: Path, *args, unit_only=True):
    only = ["--unit-only", "--model", str(prefix.parent / "model.tflite")] if unit_only else []
    return subprocess.run(
        ["bash", str(INSTALL), "--prefix", str(prefix), *only, *USER, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_env(path: Path, name: str) -> str:
    """`name` as a POSIX shell reads edgecell.env, which is how systemd.exec(5) says it is read."""
    done = subprocess.run(
        ["sh", "-c", 'set -a; . "$1"; printf %s "$(printenv "$2")"', "sh", str(path), name],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def verify(prefix: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        return
    command = prefix / "venv" / "bin" / "edgecell"  # verify checks that ExecStart's program exists
    command.parent.mkdir(parents=True, exist_ok=True)
    command.write_text("#!/bin/sh\n")
    command.chmod(0o755)
    done = subprocess.run(["systemd-analyze", "verify", str(prefix / UNIT)], capture_output=True, text=True)
    assert done.returncode == 0 and UNIT not in done.stderr, done.stderr


HOSTILE_URLS = [
    ("--webhook", "EDGECELL_WEBHOOK", "http://u:p@nodered.lan:1880/x?a=1&b=%41"),
    ("--webhook", "EDGECELL_WEBHOOK", "http://nodered.lan:1880/trailing\\"),
    ("--webhook", "EDGECELL_WEBHOOK", "http://h/EDGECELL_SERVE=0.0.0.0:8080"),
    ("--mqtt", "EDGECELL_MQTT", "mqtt://me:p%25ss$(id)`id`\"'\\@broker.lan/edgecell"),
    ("--mqtt", "EDGECELL_MQTT", "mqtts://me:%h%i%%@broker.lan:8883/home/edgecell"),
]


@pytest.mark.parametrize("option, name, url", HOSTILE_URLS)
def test_a_url_reaches_the_service_exactly_through_edgecell_env_and_never_the_unit(tmp_path, option, name, url):
    prefix = tmp_path / "edgecell"
    done = install(prefix, option, url, "--device-id", "pi-1")
    assert done.returncode == 0, done.stderr
    env = prefix / "edgecell.env"
    assert read_env(env, name) == url and read_env(env, "EDGECELL_DEVICE_ID") == "pi-1"
    assert (env.stat().st_mode & 0o777) == 0o600
    unit = (prefix / UNIT).read_text()
    assert url not in unit and "://" not in unit.split("[Unit]", 1)[1].replace("(docs/", "")
    verify(prefix)


@pytest.mark.parametrize(
    "device_id",
    [
        "pi EDGECELL_SERVE=0.0.0.0:8080 EDGECELL_WEBHOOK=http://evil/",
        "my pi",
        "pi%h",
        "pi\\",
        "pi.kitchen",
        "pi\nEDGECELL_SERVE=0.0.0.0:8080",
        "x" * 65,
    ],
)
def test_a_device_id_outside_the_rule_is_refused_with_the_rule(tmp_path, device_id):
    prefix = tmp_path / "edgecell"
    done = install(prefix, "--device-id", device_id)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "must be one MQTT topic level of letters, digits, _ and - (1 to 64 characters)" in done.stderr
    assert "\n" not in done.stderr.rstrip("\n")  # one line: a newline in the value is shown as \n
    shown = f"'{device_id}'" if "\n" not in device_id else "$'pi\\nEDGECELL_SERVE=0.0.0.0:8080'"
    assert f"--device-id {shown} must be" in done.stderr, done.stderr
    assert not prefix.exists()


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--webhook", "http://h/a\nEDGECELL_SERVE=0.0.0.0:8080", "holds a space, a newline or another control"),
        ("--webhook", "http://h/a b", "percent-encode it (a space is %20)"),
        ("--mqtt", "mqtt://h/edgecell\r", "holds a space, a newline or another control"),
        ("--mqtt", "http://h/edgecell", "is not a mqtts? URL"),
        ("--device-id", "pi\nEDGECELL_SERVE=0.0.0.0:8080", "must be one MQTT topic level"),
    ],
)
def test_a_value_with_a_newline_or_a_space_is_refused_before_the_venv_is_made(tmp_path, option, value, words):
    prefix = tmp_path / "edgecell"
    done = install(prefix, option, value, "--from", REPO, unit_only=False)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "\n" not in done.stderr.rstrip("\n")
    assert not prefix.exists()  # no venv, no folder


def test_an_existing_edgecell_env_is_made_mode_600_and_keeps_its_other_lines(tmp_path):
    prefix = tmp_path / "edgecell"
    prefix.mkdir()
    env = prefix / "edgecell.env"
    env.write_text('EDGECELL_SMOOTH="5"\nEDGECELL_MQTT="mqtt://old/edgecell"\n')
    env.chmod(0o644)
    done = install(prefix, "--mqtt", "mqtt://board:s3cret@broker.lan/edgecell", "--serve", "0.0.0.0:8080")
    assert done.returncode == 0, done.stderr
    assert (env.stat().st_mode & 0o777) == 0o600
    assert read_env(env, "EDGECELL_SMOOTH") == "5" and read_env(env, "EDGECELL_MQTT").endswith("@broker.lan/edgecell")
    token = read_env(env, "EDGECELL_TOKEN")
    assert len(token) == 32 and env.read_text().count("EDGECELL_MQTT=") == 1
    assert "s3cret" not in done.stdout  # said where it went, not what it is
    again = install(prefix, "--serve", "0.0.0.0:8080")  # a second run keeps the token and the broker
    assert again.returncode == 0 and read_env(env, "EDGECELL_TOKEN") == token, again.stderr
    assert read_env(env, "EDGECELL_MQTT").startswith("mqtt://board:")
    verify(prefix)


def test_the_help_promises_only_what_the_script_writes():
    done = subprocess.run(["bash", str(INSTALL), "--help"], capture_output=True, text=True)
    webhook = done.stdout.split("--webhook URL", 1)[1].split("\n  --", 1)[0]
    assert "user:pass@ in it is sent as HTTP Basic auth" in webhook
    assert "a random token" not in webhook.split("The URLs")[0]  # the token is --serve's, not the webhook's


def test_collect_turns_on_keeping_frames_through_edgecell_env(tmp_path):
    from support.cli import edgecell_command

    from edgecell.models import DEMO_IMAGES

    prefix = tmp_path / "edgecell"
    done = install(prefix, "--collect")
    assert done.returncode == 0, done.stderr
    folder = read_env(prefix / "edgecell.env", "EDGECELL_COLLECT")
    assert folder == str(prefix / "collected")
    unit = (prefix / UNIT).read_text()
    assert "Environment=EDGECELL_COLLECT=\n" in unit and f" {prefix}/collected" in unit  # off unless edgecell.env says
    verify(prefix)
    command = edgecell_command("infer", DEMO_IMAGES, "--model", "demo", "--collect-share", "1", "-q")
    for value, kept in ((folder, len(list(DEMO_IMAGES.glob("*.png")))), ("", 0)):  # the unit's empty default: off
        env = {**os.environ, "EDGECELL_COLLECT": value}
        run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
        assert run.returncode == 0 and ("collected" in run.stdout) == bool(kept), run.stderr
    assert len(list(Path(folder).glob("*.jpg"))) == len(list(DEMO_IMAGES.glob("*.png")))
