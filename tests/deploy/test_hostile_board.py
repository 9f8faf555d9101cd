"""`edgecell deploy` against a board that answers what it likes (the hostile port of
tests/support/sshd.py runs a test's script before every command) and a wheel whose file name is
shell code: nothing runs on the board, floods stop at a cap, escapes are shown, never run.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support import sshd
from support.cli import edgecell_command
from support.paths import REPO

from edgecell.deploy import board, fleet, hosts
from edgecell.deploy.replies import ReplyTooLarge
from edgecell.deploy.ssh import Ssh
from edgecell.models import DEMO_MODEL

pytestmark = pytest.mark.skipif(bool(sshd.unavailable()), reason=sshd.unavailable() or "sshd runs here")


def host(server, port):
    return hosts.parse(server.host(port))


def fresh_board(prefix: Path) -> None:
    """A venv without edgecell's command in it, seeing this interpreter's packages: deploy installs
    edgecell there with install.sh, which reuses the venv (nothing downloaded)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", prefix / "venv"], check=True
    )
    (site,) = (prefix / "venv").glob("lib/python*/site-packages")
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "test-host-packages.pth").write_text("\n".join(sorted(here)) + "\n")


def test_a_wheel_named_with_shell_code_stays_a_name_on_the_board(server, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, REPO], check=True
    )
    (built,) = dist.glob("edgecell-*.whl")
    # In the board's install script $1 is the prefix: run as code, this would make PREFIX-pwned.
    wheel = tmp_path / "edgecell-0.1.0-py3-none-any$(touch ${1}-pwned).whl"
    shutil.copy(built, wheel)
    prefix = tmp_path / "board" / "edgecell"
    fresh_board(prefix)
    settings = fleet.Settings(prefix=str(prefix), wheel=wheel)
    (report,) = fleet.deploy(DEMO_MODEL, [host(server, server.port)], Ssh(server.config), settings)
    assert not Path(f"{prefix}-pwned").exists() and not list(tmp_path.rglob("*pwned")), report.why
    assert report.status == "failed" and "installing edgecell there failed" in report.why, report.why
    assert "any$(touch ${1}-pwned)" in report.why, report.why  # pip was given the name, unexpanded


@pytest.mark.parametrize(
    "flood, words",
    [
        ("head -c 209715200 /dev/zero | tr '\\0' x; exit 0", "more than 16 MiB on its standard output"),
        ("head -c 20971520 /dev/zero | tr '\\0' x >&2; exit 0", "more than 256 KiB on its standard error"),
    ],
)
def test_a_board_flooding_its_replies_is_stopped_at_the_cap(server, hostile, tmp_path, flood, words):
    hostile(flood)
    with Ssh(server.config).connected(host(server, server.hostile_port)) as link:
        with pytest.raises(ReplyTooLarge) as raised:
            board.probe(link, host(server, server.hostile_port), str(tmp_path), "digits")
    assert words in str(raised.value), raised.value
    assert "stopped reading and ended the command" in str(raised.value)


def test_a_reply_in_another_shape_is_one_sentence_not_a_key_error(server, hostile, tmp_path):
    hostile("echo 'Welcome to the board!'; echo 'motd=hello'; exit 0")
    settings = fleet.Settings(prefix=str(tmp_path / "edgecell"))
    (report,) = fleet.deploy(DEMO_MODEL, [host(server, server.hostile_port)], Ssh(server.config), settings)
    assert report.status == "failed" and "unexpected" not in report.why, report.why
    assert "described it in words edgecell does not read (Welcome to the board!" in report.why, report.why


@pytest.mark.parametrize(
    "out, words",
    [
        ('{"source": "a.png"}\n--- bench ---\n{}', "ValueError: a row without a source and a status"),
        (
            '{"source": "a.png", "status": "ok", "label": "1", "top_k": 5}\n--- bench ---\n{}',
            "without a label and top_k",
        ),
        ('{"source": "a.png", "status": "ok", "label": "1", "top_k": [{"label": "1", "score": "hi"}]}', "not a number"),
        ("[1, 2]\n--- bench ---\n{}", "a row without a source"),
        ("--- bench ---\nnot json", "JSONDecodeError"),
        ('--- bench ---\n{"runs": []}', "IndexError"),
        ('--- bench ---\n{"runs": [{"invoke": {"p50": "fast", "p90": 1}}]}', "not numbers"),
    ],
)
def test_the_boards_proof_in_another_shape_is_one_sentence(out, words):
    with pytest.raises(board.BoardFailed, match="answered in a shape this one does not read") as raised:
        board.read_proof(out)
    assert words in str(raised.value), raised.value


def test_escape_codes_in_a_boards_reply_reach_the_terminal_visible_not_run(server, hostile, tmp_path):
    hostile("printf 'disk \\033]0;owned\\007\\033[2J\\033]8;;http://evil/\\033\\\\link\\n' >&2; exit 1")
    done = subprocess.run(
        edgecell_command(
            "deploy", DEMO_MODEL, server.host(server.hostile_port), "--ssh-config", server.config, "--prefix", tmp_path
        ),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
    assert "failed to describe it: disk \\x1b]0;owned\\x07\\x1b[2J\\x1b]8;;http://evil/\\x1b\\link." in done.stdout
