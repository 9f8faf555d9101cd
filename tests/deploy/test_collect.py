"""`edgecell collect` over a real OpenSSH server (tests/support/sshd.py) serving this machine as the
board: the frames a real `edgecell infer --collect` kept, fetched once, checked by sha256, removed
only when asked; a copy damaged in transit, a dead board and a board without the folder."""

import os
import subprocess
from pathlib import Path

import pytest
from support import sshd
from support.cli import edgecell_command

from edgecell.core.digest import sha256
from edgecell.models import DEMO_IMAGES

pytestmark = pytest.mark.skipif(bool(sshd.unavailable()), reason=sshd.unavailable() or "sshd runs here")

# A `tar` ahead of the real one on the board's PATH: it flips one byte of the first file it sends
# (whose data starts at byte 512).
DAMAGING_TAR = """#!/bin/sh
PATH="{path}" tar "$@" | python3 -c 'import sys; d = bytearray(sys.stdin.buffer.read()); d[600] ^= 0xFF
sys.stdout.buffer.write(d)'
"""


def collected(folder: Path) -> Path:
    """What a real run keeps: every demo image (--collect-share 1), as JPEG and sidecar."""
    done = subprocess.run(
        edgecell_command("infer", DEMO_IMAGES, "--model", "demo", "--collect", folder, "--collect-share", "1", "-q"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return folder


def collect(server, *args):
    done = subprocess.run(
        edgecell_command("collect", *args, "--ssh-config", server.config),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def files(folder: Path) -> dict:
    return {p.name: sha256(p) for p in folder.iterdir() if not p.name.startswith(".")}


def test_new_frames_come_home_verified_once_and_leave_the_board_only_with_remove(server, tmp_path):
    board = collected(tmp_path / "board")
    inbox = tmp_path / "inbox"
    host = server.host()
    done = collect(server, host, "--into", inbox, "--from", board)
    count = len(list(DEMO_IMAGES.glob("*.png")))
    assert done.returncode == 0 and f"fetched {count} new frames" in done.stdout, done.stdout + done.stderr
    home = inbox / host.replace(":", "_")
    assert files(home) == files(board) and len(files(home)) == 2 * count  # byte for byte, JPEG and sidecar
    first = sorted(home.glob("*.jpg"))[0]
    first.unlink()  # labelled and moved away by `edgecell review`: not fetched again
    again = collect(server, host, "--into", inbox, "--from", board)
    assert again.returncode == 0 and f"fetched 0 new frames (0.0 MB) into {home}, {count} already here" in again.stdout
    assert not first.exists() and len(files(board)) == 2 * count  # nothing removed without --remove
    earlier = set(files(board))
    collected(board)  # the board keeps more; --remove takes only what was verified here
    last = collect(server, host, "--into", inbox, "--from", board, "--remove")
    assert last.returncode == 0 and f"removed {count} from the board" in last.stdout, last.stdout
    assert set(files(board)) == earlier  # the first run's frames were fetched without --remove: they stay
    assert len(files(home)) == 4 * count - 1


def test_links_and_strange_names_on_the_board_are_not_frames(server, tmp_path):
    board = collected(tmp_path / "board")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the laptop")
    for kind in (".jpg", ".json"):
        (board / f"link{kind}").symlink_to(secret)  # a link to a file elsewhere on the board
        (board / f"x$(touch ran){kind}").write_text("{}")  # a name a shell would run
        (board / f"-rf{kind}").write_text("{}")  # a name a command would read as an option
    inbox = tmp_path / "inbox"
    done = collect(server, server.host(), "--into", inbox, "--from", board, "--remove")
    count = len(list(DEMO_IMAGES.glob("*.png")))
    assert done.returncode == 0 and f"fetched {count} new frames" in done.stdout, done.stdout
    fetched = {p.name for p in next(inbox.iterdir()).iterdir() if not p.name.startswith(".")}
    assert len(fetched) == 2 * count and not any("link" in n or "$" in n or n.startswith("-") for n in fetched)
    assert not (board / "ran").exists() and not (Path.home() / "ran").exists()  # the name stayed a name
    assert {p.name for p in board.iterdir()} == {
        f"{n}{k}" for n in ("link", "x$(touch ran)", "-rf") for k in (".jpg", ".json")
    }


def test_a_copy_damaged_in_transit_is_not_kept_nor_removed(server, hostile, tmp_path):
    board = collected(tmp_path / "board")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "tar").write_text(DAMAGING_TAR.format(path=os.environ["PATH"]))
    (fake / "tar").chmod(0o755)
    hostile(f'export PATH="{fake}:$PATH"')
    inbox = tmp_path / "inbox"
    done = collect(server, server.host(server.hostile_port), "--into", inbox, "--from", board, "--remove")
    assert done.returncode == 1 and "arrived damaged and were not kept (run again)" in done.stdout, done.stdout
    count = len(list(DEMO_IMAGES.glob("*.png")))
    assert (
        f"fetched {count - 1} new frames" in done.stdout
        and f"removed {count - 1} from the board; 1 arrived" in done.stdout
    )
    damaged = sorted(board.glob("*.jpg"))  # the first in the tar: the one the fake tar damaged, still on the board
    kept = next(inbox.iterdir())
    assert len(damaged) == 1 and not (kept / damaged[0].name).exists() and len(list(kept.glob("*.jpg"))) == count - 1
    hostile("")  # the link is sound again: the frame comes home, byte for byte
    again = collect(server, server.host(server.hostile_port), "--into", inbox, "--from", board)
    assert again.returncode == 0 and "fetched 1 new frame (" in again.stdout, again.stdout
    assert sha256(kept / damaged[0].name) == sha256(damaged[0])


def test_a_dead_board_and_one_without_the_folder_are_one_sentence_each_the_others_fetched(server, hostile, tmp_path):
    home = tmp_path / "home"
    collected(home / "edgecell" / "collected")  # the default --from, under the hostile port's HOME
    hostile(f'export HOME="{home}"')
    if (Path.home() / "edgecell" / "collected").exists():
        pytest.skip("this machine's own ~/edgecell/collected exists: the board without the folder would have one")
    dead = f"{server.user}@127.0.0.1:{sshd.free_port()}"
    done = collect(server, dead, server.host(), server.host(server.hostile_port), "--into", tmp_path / "inbox")
    out = done.stdout
    assert done.returncode == 1, out
    assert f"{dead}: nothing answers SSH at" in out
    assert f"{server.host()}: has no folder {Path.home()}/edgecell/collected; turn collecting on there" in out
    assert f"{server.host(server.hostile_port)}: fetched {len(list(DEMO_IMAGES.glob('*.png')))} new frames" in out


def test_collect_without_an_inbox_or_a_board_is_one_sentence(server, tmp_path):
    done = collect(server, server.host())
    assert done.returncode == 2 and "--into INBOX" in done.stderr
    done = collect(server, "--into", tmp_path)
    assert done.returncode == 2 and "No board given" in done.stderr
