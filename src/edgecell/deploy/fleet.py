"""Deploy a model to one board or a fleet, each board on its own: look, install, copy beside,
prove on the board, switch, restart; or roll back. One board's failure never stops the others.

The local work (the model's hash, the reference run on the held-out images, the wheel) is done
once, before any board is touched, so a wrong model or missing images is a usage error.
"""

import io
import re
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.core.errors import EdgecellError
from edgecell.core.version import __version__
from edgecell.deploy import board, service, verify
from edgecell.deploy.replies import ReplyTooLarge
from edgecell.deploy.ssh import BoardUnreachable, Host, Ssh
from edgecell.deploy.wheel import Wheel

SHOWN_DIFFERENCES = 5  # images named in the one sentence; the JSON report has them all
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Settings:
    prefix: str = "edgecell"  # relative to the board user's home, or absolute
    name: Optional[str] = None  # models/NAME on the board (default: the model file's stem)
    images: Optional[Path] = None
    service: bool = False
    parallel: int = 4
    wheel: Optional[Path] = None
    bench_runs: int = 50


class BoardReport(NamedTuple):
    board: str
    status: str  # "done" or "failed"
    why: str  # one sentence: what was done, or why this board stopped
    cpu: Optional[str] = None
    runtime: Optional[str] = None
    identical: Optional[int] = None
    checked: Optional[int] = None
    p50_ms: Optional[float] = None
    p90_ms: Optional[float] = None
    previous: Optional[str] = None  # model file names (<sha256>.tflite)
    new: Optional[str] = None
    differing: tuple = ()

    @property
    def ok(self) -> bool:
        return self.status == "done"


class Release(NamedTuple):
    """What every board gets, made once on the laptop before any board is touched."""

    model: Path
    name: str  # models/NAME on the board
    sha: str  # the model's sha256: its file name on the board
    ref: verify.Reference  # the laptop's answers on the held-out images
    images: bytes  # those images, as a tar
    wheel: Wheel  # built when a board needs edgecell installed


def model_name(model: Path, name: Optional[str]) -> str:
    name = name or model.stem
    if not NAME.match(name):
        raise EdgecellError(f"--name {name!r} is not a folder name; use letters, digits, '.', '_' and '-'.")
    return name


def deploy(model: Path, hosts: list, ssh: Ssh, settings: Settings, on_board=None) -> list:
    """Deploy `model` to every host, `settings.parallel` at a time; a BoardReport per host, in order."""
    model = Path(model)
    if not model.is_file():
        raise EdgecellError(f"Model {model} is not a file; give the .tflite to deploy.")
    name = model_name(model, settings.name)
    sha = verify.sha256(model)
    ref = verify.reference(model, verify.held_out_images(model, settings.images))
    images = pack({staged: path for staged, path in ref.images.items()})
    with tempfile.TemporaryDirectory(prefix="edgecell-deploy-") as scratch:
        release = Release(model, name, sha, ref, images, Wheel(settings.wheel, Path(scratch)))

        def one(host: Host) -> BoardReport:
            return _guarded(host, ssh, lambda link: _deploy_one(host, link, settings, release))

        return each_board(hosts, one, settings.parallel, on_board)


def rollback(hosts: list, ssh: Ssh, settings: Settings, on_board=None) -> list:
    """Point `current` back at `previous` on every host (and restart the service when asked)."""
    if settings.name is not None:
        model_name(Path(settings.name), settings.name)

    def one(host: Host) -> BoardReport:
        return _guarded(host, ssh, lambda link: _rollback_one(host, link, settings))

    return each_board(hosts, one, settings.parallel, on_board)


def each_board(hosts, one, parallel: int, on_board) -> list:
    def run(host):
        report = one(host)
        if on_board is not None:
            on_board(report)
        return report

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(hosts)))) as pool:
        return list(pool.map(run, hosts))


def _guarded(host: Host, ssh: Ssh, work) -> BoardReport:
    """Whatever happens on one board becomes its report, never the fleet's exception."""
    try:
        with ssh.connected(host) as link:
            return work(link)
    except (BoardUnreachable, board.BoardFailed, ReplyTooLarge) as error:
        return BoardReport(host.spec, "failed", str(error))
    except EdgecellError as error:
        return BoardReport(host.spec, "failed", str(error))
    except Exception as error:  # noqa: BLE001 - a bug here must not stop the other boards
        return BoardReport(host.spec, "failed", f"unexpected {type(error).__name__}: {error}")


def _deploy_one(host: Host, ssh: Ssh, settings: Settings, release: Release) -> BoardReport:
    facts = board.probe(ssh, host, settings.prefix, release.name)
    seen = dict(cpu=facts.machine, runtime=facts.runtime, previous=facts.current, new=f"{release.sha}.tflite")
    try:
        return _deploy_probed(host, ssh, settings, release, facts, seen)
    except (BoardUnreachable, board.BoardFailed, ReplyTooLarge) as error:  # keep what was learnt about the board
        return BoardReport(host.spec, "failed", str(error), **seen)


def _deploy_probed(host: Host, ssh: Ssh, settings: Settings, release: Release, facts, seen: dict) -> BoardReport:
    model, name, sha, ref, images, wheel = release
    target = f"{sha}.tflite"
    if facts.current == target:
        said = f"{name} {sha[:12]} is already the current model; nothing changed."
        return BoardReport(host.spec, "done", said, **seen)
    installing = facts.edgecell != __version__
    send = model.stat().st_size + len(images) + (wheel.size_estimate if installing else 0)
    board.check_can_run(facts, send, installing)
    did = []
    if installing:
        did.append(f"edgecell {__version__} {board.install(ssh, host, facts, wheel.get().name, pack(wheel.kit()))}")
        facts = board.probe(ssh, host, settings.prefix, name)
        seen["runtime"] = facts.runtime
    board.put_model(ssh, host, facts, name, model, sha)
    try:
        proof = board.prove(ssh, host, facts, name, sha, images, ref.top_k, settings.bench_runs)
    except board.BoardFailed:
        board.forget(ssh, host, facts, name, sha)
        raise
    verdict = verify.compare(ref, proof.rows)
    seen.update(identical=verdict.identical, checked=verdict.total, differing=tuple(verdict.differing))
    if not verdict.ok:
        board.forget(ssh, host, facts, name, sha)
        shown = "; ".join(verdict.differing[:SHOWN_DIFFERENCES])
        hidden = len(verdict.differing) - SHOWN_DIFFERENCES
        more = f" and {hidden} more" if hidden > 0 else ""
        raise board.BoardFailed(
            f"the board answers differently on {verdict.total - verdict.identical} of {verdict.total} images "
            f"({shown}{more}); current left at {facts.current or 'none'}."
        )
    invoke = proof.bench["runs"][0]["invoke"]
    seen.update(p50_ms=invoke["p50"], p90_ms=invoke["p90"])
    board.switch(ssh, host, facts, name, target)
    did.append(f"switched {name} to {sha[:12]}")
    if settings.service:
        did.append(_restart_or_switch_back(ssh, host, facts, name, facts.current))
    return BoardReport(host.spec, "done", "; ".join(did) + ".", **seen)


def _restart_or_switch_back(ssh, host, facts, name, previous) -> str:
    """A service that does not come up healthy on the new model goes back to the previous one."""
    try:
        return service.restart(ssh, host, facts, name)
    except board.BoardFailed as error:
        if previous is None:
            raise
        board.switch(ssh, host, facts, name, previous)
        try:
            service.restart(ssh, host, facts, name)
        except board.BoardFailed:
            pass
        raise board.BoardFailed(f"{error} Switched back to {previous[:12]}.") from None


def _rollback_one(host, ssh, settings) -> BoardReport:
    name = settings.name
    facts = board.probe(ssh, host, settings.prefix, name or "")
    if name is None:
        if len(facts.names) != 1:
            found = ", ".join(facts.names) or "none"
            raise board.BoardFailed(f"has models {found} under {facts.prefix}/models; say which with --name.")
        name = facts.names[0]
        facts = board.probe(ssh, host, settings.prefix, name)
    seen = dict(cpu=facts.machine, runtime=facts.runtime, previous=facts.current, new=facts.previous)
    if facts.previous is None:
        said = f"no previous model of {name} to roll back to; nothing changed."
        return BoardReport(host.spec, "failed", said, **seen)
    board.switch(ssh, host, facts, name, facts.previous)
    did = [f"rolled {name} back to {facts.previous[:12]}"]
    if settings.service:
        did.append(service.restart(ssh, host, facts, name))
    return BoardReport(host.spec, "done", "; ".join(did) + ".", **seen)


def pack(files: dict) -> bytes:
    """A tar of {name in the archive: file here}, in memory: a few dozen images or one wheel."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for arcname, path in files.items():
            tar.add(str(path), arcname=arcname)
    return buffer.getvalue()


def exit_code(reports: list) -> int:
    return 0 if all(r.ok for r in reports) else 1
