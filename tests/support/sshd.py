"""A real OpenSSH server on loopback serving this machine as the "board", for the deploy tests.

sshd runs in the foreground (-D -e) from a config in a temporary folder: a throwaway host key, an
authorized user key made with ssh-keygen, StrictModes off (the keys live under /tmp), root login by
key only. Its second port runs every command through `corrupt.sh`, which flips one byte of what
is written to a `.part` file: a copy damaged in transit. Its third port is a hostile board: each
command first sources `Server.before` when that file exists (a test writes there what the board
prints, e.g. a flood or escape codes, and may `exit` before the real command runs). Clients use
their own config (ssh -F), since OpenSSH reads ~/.ssh/config from the passwd home, not $HOME.
"""

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import pytest

SSHD = "/usr/sbin/sshd"

CORRUPT = """#!/bin/sh
case "$SSH_ORIGINAL_COMMAND" in
  *.part*) python3 -c 'import sys; d = bytearray(sys.stdin.buffer.read()); d[len(d) // 2] ^= 0xFF
sys.stdout.buffer.write(d)' | sh -c "$SSH_ORIGINAL_COMMAND" ;;
  *) exec sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
"""

BEFORE = """#!/bin/sh
[ -f {before} ] && . {before}
exec sh -c "$SSH_ORIGINAL_COMMAND"
"""


class Server(NamedTuple):
    port: int  # a good board
    corrupting_port: int  # the same board, with copies damaged in transit
    hostile_port: int  # the same board, running `before` ahead of every command
    before: Path  # a sh script the hostile port sources first (absent: none)
    config: Path  # ssh -F: the authorized key, the known host key
    wrong_key_config: Path  # ssh -F: a key the server does not know
    user: str

    def host(self, port=None) -> str:
        return f"{self.user}@127.0.0.1:{port or self.port}"


def unavailable() -> str:
    """Why a real sshd cannot run here, or '' when it can."""
    if not os.path.exists(SSHD) or not shutil.which("ssh-keygen") or not shutil.which("ssh"):
        return "openssh-server and openssh-client are not installed (.ci/run installs them)"
    if os.geteuid() != 0:
        return "sshd needs root to run (CI runs as root)"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def client_config(folder: Path, name: str, key: Path) -> Path:
    path = folder / name
    path.write_text(
        "Host *\n"
        f"    IdentityFile {key}\n"
        "    IdentitiesOnly yes\n"
        "    IdentityAgent none\n"
        f"    UserKnownHostsFile {folder / 'known_hosts'}\n"
        "    StrictHostKeyChecking yes\n"
        "    LogLevel ERROR\n"
    )
    return path


def start(folder: Path):
    """(the running sshd process, a Server); stop it with `stop(process)`."""
    host_key = keygen(folder / "host_key")
    user_key = keygen(folder / "user_key")
    keygen(folder / "other_key")
    (folder / "authorized_keys").write_text(user_key + "\n")
    corrupt = folder / "corrupt.sh"
    corrupt.write_text(CORRUPT)
    corrupt.chmod(0o755)
    hostile = folder / "hostile.sh"
    hostile.write_text(BEFORE.format(before=folder / "before.sh"))
    hostile.chmod(0o755)
    port, corrupting, hostile_port = free_port(), free_port(), free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"ListenAddress 127.0.0.1:{corrupting}\n"
        f"ListenAddress 127.0.0.1:{hostile_port}\n"
        f"HostKey {folder / 'host_key'}\n"
        "PidFile none\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "StrictModes no\n"
        "UsePAM no\n"
        # the board installs offline: pip finds everything in the wheel and what this machine has
        "SetEnv PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1\n"
        f"Match LocalPort {corrupting}\n"
        f"    ForceCommand {corrupt}\n"
        f"Match LocalPort {hostile_port}\n"
        f"    ForceCommand {hostile}\n"
    )
    (folder / "known_hosts").write_text(
        "".join(f"[127.0.0.1]:{p} {host_key}\n" for p in (port, corrupting, hostile_port))
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation folder
    log = open(folder / "sshd.log", "wb")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while not all(_listening(p) for p in (port, corrupting, hostile_port)):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()}")
        time.sleep(0.05)
    server = Server(
        port,
        corrupting,
        hostile_port,
        folder / "before.sh",
        client_config(folder, "ssh_config", folder / "user_key"),
        client_config(folder, "wrong_key_config", folder / "other_key"),
        getpass.getuser(),
    )
    return process, server


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A loopback sshd for the test module (`start`), stopped after it."""
    process, found = start(tmp_path_factory.mktemp("sshd"))
    yield found
    stop(process)


@pytest.fixture
def hostile(server):
    """Write the board's behaviour (a sh snippet run before each command); removed after the test."""
    yield lambda script: server.before.write_text(script + "\n")
    server.before.unlink(missing_ok=True)
