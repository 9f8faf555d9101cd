"""Reach a board with the system's own `ssh`, so the user's ~/.ssh/config, keys, agent, jump
hosts (ProxyJump) and known_hosts apply exactly as when they log in by hand.

A Python SSH library would need each of those re-implemented (and would read a different
known_hosts policy); the `ssh` binary is on every laptop that can reach a board at all. Files
travel on the same connection kind, as the standard input of `cat >` or `tar -x` on the board,
so nothing more than a POSIX shell, cat and tar is needed there (no sftp subsystem, no rsync).
BatchMode: a password or passphrase prompt would hang a fleet; a board that wants one is an error.
Each board gets one connection for all its steps (OpenSSH's ControlMaster, owned by this process
and closed at the end): a handshake costs a second or more on a busy Pi, and a deploy takes ~6 steps.
"""

import contextlib
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple, Optional, Union

from edgecell.deploy.hosts import Host
from edgecell.deploy.replies import run_capped

CONNECTION_FAILED = 255  # what ssh exits with when it never ran the command


class BoardUnreachable(Exception):
    """The board could not be reached or refused us; `str()` is one sentence."""


class Answer(NamedTuple):
    code: int
    out: str
    err: str


class Ssh:
    def __init__(self, config: Optional[Path] = None, options=(), connect_timeout: int = 10):
        self.config = config
        self.options = list(options)
        self.connect_timeout = connect_timeout

    @contextlib.contextmanager
    def connected(self, host: Host):
        """An Ssh whose commands to `host` share one connection, made (and checked) here: a board
        that cannot be reached or refuses the key raises BoardUnreachable before any step."""
        folder = Path(tempfile.mkdtemp(prefix="edgecell-ssh-"))  # short: a socket path has ~100 bytes
        socket, log = folder / "master", folder / "log"
        argv = self._options(host) + ["-M", "-N", "-o", f"ControlPath={socket}", "-o", "ControlPersist=no"]
        try:
            with open(log, "wb") as err:
                master = subprocess.Popen([*argv, "--", host.destination], stdin=subprocess.DEVNULL, stderr=err)
            try:
                deadline = time.monotonic() + self.connect_timeout + 5
                while not socket.exists():
                    if master.poll() is not None:
                        raise BoardUnreachable(why(host, log.read_text(errors="replace")))
                    if time.monotonic() > deadline:
                        raise BoardUnreachable(
                            f"{host.destination} did not finish logging in within {self.connect_timeout + 5} s."
                        )
                    time.sleep(0.02)
                yield Ssh(
                    self.config, [*self.options, f"ControlPath={socket}", "ControlMaster=no"], self.connect_timeout
                )
            finally:
                master.terminate()
                try:
                    master.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    master.kill()
                    master.wait()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _options(self, host: Host) -> list:
        args = ["ssh"]
        if self.config is not None:
            args += ["-F", str(self.config)]
        args += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout}"]
        for option in self.options:
            args += ["-o", option]
        if host.port is not None:
            args += ["-p", str(host.port)]
        return args

    def argv(self, host: Host, remote: str) -> list:
        return [*self._options(host), "--", host.destination, remote]

    def run(self, host: Host, script: str, args=(), data: Union[bytes, Path, None] = None, timeout: float = 300):
        """Run `script` with the board's `sh` ($1... = `args`), `data` (bytes or a file) as its standard
        input; an Answer. The login shell only sees quoted words, whatever shell it is, and a value
        from this side is one of `args`, never pasted into `script`. What the board answers is
        capped (deploy/replies.py): past the cap, ReplyTooLarge."""
        done = self.call(host, script, args, data, timeout)
        return Answer(done.code, done.out.decode(errors="replace"), done.err.decode(errors="replace"))

    def call(self, host: Host, script: str, args=(), data: Union[bytes, Path, None] = None, timeout: float = 300):
        """`run`, answering bytes (a Reply): for a board's files, such as a tar of them."""
        words = ["sh", "-c", script, "sh", *map(str, args)]
        argv = self.argv(host, " ".join(shlex.quote(w) for w in words))
        try:
            done = run_capped(argv, data, timeout)
        except subprocess.TimeoutExpired:
            raise BoardUnreachable(
                f"no answer within {timeout:.0f} s; is the board overloaded or the link down?"
            ) from None
        except FileNotFoundError:
            raise BoardUnreachable("this machine has no `ssh` command; install OpenSSH's client.") from None
        if done.code == CONNECTION_FAILED:
            raise BoardUnreachable(why(host, done.err.decode(errors="replace")))
        return done


def why(host: Host, stderr: str) -> str:
    """ssh's own complaint as one sentence with the fix."""
    where = f"{host.destination}" + (f" port {host.port}" if host.port else "")
    if "Connection refused" in stderr:
        return f"nothing answers SSH at {where} (connection refused); is the board up and sshd running?"
    if "Permission denied" in stderr:
        return (
            f"{where} refused the SSH key; add your public key to the board (ssh-copy-id {host.spec}) "
            "or name the right IdentityFile in your ssh config."
        )
    if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return f"the host key of {where} is unknown or changed; check and accept it once with `ssh {host.spec}`."
    if "Could not resolve hostname" in stderr:
        return f"the name {host.destination.split('@')[-1]} does not resolve; check the host name or your ssh config."
    if "timed out" in stderr:
        return f"{where} did not answer (connection timed out); is it on this network?"
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return f"ssh to {where} failed: {lines[-1] if lines else 'no message'}."
