"""`edgecell collect`: bring home the frames `edgecell infer --collect` kept on each board.

Over the same SSH connection deploy uses (deploy/ssh.py, replies capped by deploy/replies.py),
one board at a time or several at once, each into INBOX/<board>/:
1. list the board's folder: every frame whose sidecar is written (NAME.json, written after
   NAME.jpg, sinks/collect_folder.py), with both files' sizes; a symbolic link is no frame, nor
   a name outside letters, digits, '.', '_' and '-';
2. leave out the frames this inbox already fetched (INBOX/<board>/.fetched lists them, so a frame
   labelled and moved away by `edgecell review` is not fetched again);
3. fetch the rest in batches that fit the reply cap: the board's sha256sum of each file, then the
   files as a tar read in memory (no path from the board is ever used as one here: only names
   asked for are taken, written under names made here, atomically);
4. compare each copy's sha256 with the board's; only a verified frame counts as fetched, and only
   a verified frame is removed from the board, and only with `--remove`.
A board that cannot be reached, or has no such folder, is one sentence; the others are fetched.
"""

import hashlib
import io
import re
import tarfile
from pathlib import Path
from typing import NamedTuple

from edgecell.core import atomic
from edgecell.core.printable import printable
from edgecell.deploy.board import BoardFailed, last_line
from edgecell.deploy.fleet import each_board
from edgecell.deploy.replies import MAX_OUT, ReplyTooLarge
from edgecell.deploy.ssh import BoardUnreachable, Host, Ssh

FROM = "edgecell/collected"  # install.sh --collect's folder, relative to the SSH user's home
LEDGER = ".fetched"
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")  # what a collected frame's name may be
BATCH_BYTES = MAX_OUT // 2  # a tar of the batch stays well inside the reply cap
BATCH_FILES = 200  # names on one command line
MISSING = 3

LIST = r"""
d="$1"; case "$d" in /*) ;; *) d="$HOME/$d" ;; esac
[ -d "$d" ] || { echo "$d"; exit 3; }
cd "$d" || exit 4
for f in *.json; do
  n="${f%.json}"
  [ -f "$n.json" ] && [ -f "$n.jpg" ] && [ ! -L "$n.json" ] && [ ! -L "$n.jpg" ] \
    && echo "$n $(wc -c < "$n.jpg") $(wc -c < "$n.json")"
done
exit 0
"""
INSIDE = 'd="$1"; case "$d" in /*) ;; *) d="$HOME/$d" ;; esac; cd "$d" || exit 4; shift; '
SUMS, TAR, REMOVE = INSIDE + 'sha256sum -- "$@"', INSIDE + 'tar -cf - -- "$@"', INSIDE + 'rm -f -- "$@"'


class Fetched(NamedTuple):
    board: str
    ok: bool
    why: str  # one sentence: what was fetched, or why this board stopped
    fetched: int = 0
    already: int = 0
    removed: int = 0
    bytes: int = 0
    folder: str = ""


def inbox_folder(inbox: Path, host: Host) -> Path:
    """INBOX/<board>: the board as written, with what a folder name cannot hold made '_'."""
    return Path(inbox) / re.sub(r"[^A-Za-z0-9@._-]", "_", host.spec).lstrip(".")


def collect(hosts: list, inbox: Path, ssh: Ssh, source: str = FROM, remove: bool = False, **pool) -> list:
    """Fetch every host's new frames into `inbox`; a Fetched per host, in order."""

    def one(host: Host) -> Fetched:
        folder = inbox_folder(inbox, host)
        try:
            with ssh.connected(host) as link:
                return _one(host, link, folder, source, remove)
        except (BoardUnreachable, BoardFailed, ReplyTooLarge, OSError) as error:
            return Fetched(host.spec, False, str(error), folder=str(folder))

    return each_board(hosts, one, pool.get("parallel", 4), pool.get("on_board"))


def _one(host: Host, ssh: Ssh, folder: Path, source: str, remove: bool) -> Fetched:
    answer = ssh.run(host, LIST, [source], timeout=120)
    if answer.code == MISSING:
        raise BoardFailed(
            f"has no folder {answer.out.strip() or source}; turn collecting on there (edgecell infer --collect DIR, "
            "or install.sh --collect), or name the folder with --from."
        )
    if answer.code != 0:
        raise BoardFailed(f"could not list {source}: {last_line(answer.err)}")
    listed = _listing(answer.out)
    seen = ledger(folder)
    new = {name: size for name, size in listed.items() if name not in seen}
    folder.mkdir(parents=True, exist_ok=True)
    done, total = [], 0
    for batch in batches(new):
        files = [f"{name}{kind}" for name in batch for kind in (".jpg", ".json")]
        sums = _sums(ssh.run(host, SUMS, [source, *files], timeout=300))
        copies = _untar(ssh.call(host, TAR, [source, *files], timeout=600).out)
        for name in batch:
            pair = [f"{name}.jpg", f"{name}.json"]
            if all(f in copies and hashlib.sha256(copies[f]).hexdigest() == sums.get(f) for f in pair):
                for f in pair:
                    atomic.write_bytes(folder / f, copies[f])
                done.append(name)
                total += sum(len(copies[f]) for f in pair)
        _remember(folder, done)
    bad = len(new) - len(done)
    removed = _remove(host, ssh, source, done) if remove else 0
    frames = "frame" if len(done) == 1 else "frames"
    said = (
        f"fetched {len(done)} new {frames} ({total / 1e6:.1f} MB) into {folder}, {len(listed) - len(new)} already here"
    )
    if removed:
        said += f"; removed {removed} from the board"
    if bad:
        return Fetched(host.spec, False, f"{said}; {bad} arrived damaged and were not kept (run again).", len(done))
    return Fetched(host.spec, True, said + ".", len(done), len(listed) - len(new), removed, total, str(folder))


def _listing(out: str) -> dict:
    """{name: bytes of both files} of the board's list; a line that is not a frame is left out."""
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 3 and NAME.match(words[0]) and words[1].isdigit() and words[2].isdigit():
            found[words[0]] = int(words[1]) + int(words[2])
    return found


def batches(sizes: dict):
    """Names in order, grouped so each group's files fit BATCH_BYTES and BATCH_FILES."""
    batch, held = [], 0
    for name in sorted(sizes):
        if batch and (held + sizes[name] > BATCH_BYTES or len(batch) >= BATCH_FILES // 2):
            yield batch
            batch, held = [], 0
        batch.append(name)
        held += sizes[name]
    if batch:
        yield batch


def _sums(answer) -> dict:
    sums = {}
    for line in answer.out.splitlines():
        digest, _, name = line.partition("  ")
        if re.fullmatch(r"[0-9a-f]{64}", digest):
            sums[name] = digest
    return sums


def _untar(data: bytes) -> dict:
    """{member name: bytes} of the regular files of a tar; links, folders and devices are left out."""
    found = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                if member.isreg() and NAME.match(member.name.rsplit(".", 1)[0]):
                    found[member.name] = tar.extractfile(member).read()
    except tarfile.TarError:
        pass  # what did arrive is checked by its sha256; the rest is reported as damaged
    return found


def ledger(folder: Path) -> set:
    try:
        return set((folder / LEDGER).read_text(encoding="utf-8").split())
    except (OSError, UnicodeDecodeError):
        return set()


def _remember(folder: Path, names: list) -> None:
    """Add `names` to the ledger, written whole (atomically) each batch."""
    if names:
        known = ledger(folder) | set(names)
        atomic.write_text(folder / LEDGER, "".join(f"{n}\n" for n in sorted(known)))


def _remove(host: Host, ssh: Ssh, source: str, names: list) -> int:
    removed = 0
    for start in range(0, len(names), BATCH_FILES // 2):
        chunk = names[start : start + BATCH_FILES // 2]
        answer = ssh.run(host, REMOVE, [source, *[f"{n}{k}" for n in chunk for k in (".jpg", ".json")]])
        if answer.code != 0:
            raise BoardFailed(f"fetched and verified, but could not remove them: {last_line(answer.err)}")
        removed += len(chunk)
    return removed


def lines(reports) -> list:
    """One line a board, what a board said made safe to print (core/printable.py)."""
    return [printable(f"{r.board}: {r.why}") for r in reports]
