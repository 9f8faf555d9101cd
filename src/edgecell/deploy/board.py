"""What deploy does on one board, each step one SSH call running a short POSIX sh script.

The board's layout under PREFIX (default ~/edgecell, what device/install.sh makes):
  venv/                      edgecell and the board's TFLite runtime
  models/NAME/<sha256>.tflite  every model by content, never written over
  models/NAME/current        a relative symlink to the one in use (the service runs this path)
  models/NAME/previous       the one before, for --rollback
  deploy/<sha256>/           the held-out images and the board's answers while proving a model
Links move by rename (`mv -T`), so a reader sees the old link or the new one, never none.
"""

import json
import re
from pathlib import Path
from typing import NamedTuple, Optional

from edgecell.core.printable import printable
from edgecell.deploy.ssh import Host, Ssh

MIN_PYTHON = (3, 10)  # requires-python of edgecell
FRESH_INSTALL_KB = 400 * 1024  # a new venv with numpy, OpenCV and a TFLite runtime
MARGIN_KB = 1024
FREE_KB = re.compile(r"\d{1,15}")


class BoardFailed(Exception):
    """This board cannot go on; `str()` is one sentence, and nothing was switched."""


class Facts(NamedTuple):
    prefix: str  # absolute, on the board
    machine: str
    python: str
    python_version: Optional[tuple]
    free_kb: int
    edgecell: Optional[str]  # the version in PREFIX/venv, None when not installed there
    runtime: Optional[str]
    systemd: bool
    current: Optional[str]  # file names the links point at
    previous: Optional[str]
    names: list  # model names under PREFIX/models


PROBE = r"""
p="$1"; n="$2"
case "$p" in /*) ;; *) p="$HOME/$p" ;; esac
echo "prefix=$p"
echo "machine=$(uname -m)"
py=$(command -v python3 2>/dev/null || true)
echo "python=$py"
[ -n "$py" ] && echo "python_version=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)"
d="$p"; while [ ! -d "$d" ]; do d=$(dirname "$d"); done
echo "free_kb=$(df -Pk "$d" | awk 'NR==2 {print $4}')"
[ -d /run/systemd/system ] && echo "systemd=yes"
if [ -x "$p/venv/bin/edgecell" ]; then
  "$p/venv/bin/python" - 2>/dev/null <<'PY'
import importlib.metadata as m
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return None
print("edgecell=%s" % version("edgecell"))
for name in ("ai-edge-litert", "tflite-runtime", "tensorflow", "tensorflow-cpu"):
    if version(name):
        print("runtime=%s %s" % (name, version(name)))
        break
PY
fi
if [ -d "$p/models" ]; then echo "names=$(ls "$p/models" | tr '\n' ' ')"; fi
echo "current=$(readlink "$p/models/$n/current" 2>/dev/null)"
echo "previous=$(readlink "$p/models/$n/previous" 2>/dev/null)"
"""


def probe(ssh: Ssh, host: Host, prefix: str, name: str) -> Facts:
    """Look before touching: CPU, Python, free disk, what edgecell and runtime are there."""
    answer = ssh.run(host, PROBE, [prefix, name], timeout=60)
    if answer.code != 0:
        raise BoardFailed(f"the board's shell failed to describe it: {last_line(answer.err)}")
    seen = dict(line.split("=", 1) for line in answer.out.splitlines() if "=" in line)
    version = seen.get("python_version") or ""
    if (
        not seen.get("prefix")
        or not re.fullmatch(r"(\d+\.){0,2}\d*", version)
        or not FREE_KB.fullmatch(seen.get("free_kb") or "0")
    ):
        raise BoardFailed(
            f"the board's shell described it in words edgecell does not read ({shortened(answer.out, 200)}); "
            "is its login shell printing something of its own?"
        )
    return Facts(
        prefix=seen["prefix"],
        machine=seen.get("machine", "?"),
        python=seen.get("python", ""),
        python_version=tuple(int(v) for v in version.split(".") if v) if version else None,
        free_kb=int(seen.get("free_kb") or 0),
        edgecell=seen.get("edgecell") or None,
        runtime=seen.get("runtime") or None,
        systemd=seen.get("systemd") == "yes",
        current=seen.get("current") or None,
        previous=seen.get("previous") or None,
        names=seen.get("names", "").split(),
    )


def check_can_run(facts: Facts, send_bytes: int, installing: bool) -> None:
    """A board without Python 3.10+ or the room for what is sent: one sentence, nothing changed."""
    if not facts.python or facts.python_version is None:
        raise BoardFailed("has no python3; install Python 3.10 or newer (sudo apt install python3-venv).")
    if facts.python_version[:2] < MIN_PYTHON:
        have = ".".join(map(str, facts.python_version))
        raise BoardFailed(f"has Python {have}; edgecell needs 3.10 or newer (Raspberry Pi OS Bookworm has 3.11).")
    need_kb = 2 * send_bytes // 1024 + MARGIN_KB + (FRESH_INSTALL_KB if installing and not facts.edgecell else 0)
    if facts.free_kb < need_kb:
        raise BoardFailed(
            f"has {facts.free_kb / 1024:.1f} MB free under {facts.prefix} and this deploy needs "
            f"{need_kb / 1024:.1f} MB; free some space or choose another --prefix."
        )


def install(ssh: Ssh, host: Host, facts: Facts, wheel: str, kit: bytes) -> str:
    """Install edgecell from the wheel named `wheel` with device/install.sh (a fresh board), or upgrade
    edgecell alone in the board's venv (its runtime, numpy and OpenCV stay the board's choice).
    `kit` is a tar of the wheel, install.sh and the unit template. The wheel's file name reaches the
    board's shell as an argument ("$3"), never as script text: a name holding `$(...)` stays a name."""
    stage = f"{facts.prefix}/deploy/install"
    if facts.edgecell is None:
        # Logged in as root, the service still runs as an account of its own (install.sh makes it).
        user = '$([ "$(id -u)" = 0 ] && echo --user edgecell)'
        step = f'bash "$s/install.sh" --prefix "$1" --from "$s/$3" {user}'
    else:
        pip = '"$1/venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall'
        step = f'{pip} "$s/$3"'
    script = (
        f's="$2"; mkdir -p "$s" && tar -xf - -C "$s" && {step} >"$s/log" 2>&1; rc=$?; '
        'tail -n 3 "$s/log" >&2; rm -rf "$s"; exit $rc'
    )
    answer = ssh.run(host, script, [facts.prefix, stage, wheel], data=kit, timeout=900)
    if answer.code != 0:
        raise BoardFailed(f"installing edgecell there failed: {last_line(answer.err)}")
    return "installed" if facts.edgecell is None else f"upgraded from {facts.edgecell}"


COPY = r"""
d="$1/models/$2"; part="$d/.$3.part"
mkdir -p "$d" && cat > "$part" || { rm -f "$part"; exit 3; }
got=$(sha256sum "$part" | cut -c1-64)
if [ "$got" != "$3" ]; then rm -f "$part"; echo "got=$got"; exit 4; fi
mv -f "$part" "$d/$3.tflite"
"""


def put_model(ssh: Ssh, host: Host, facts: Facts, name: str, model: Path, sha: str) -> None:
    """Copy the model beside the current one as <sha256>.tflite, checked by its hash on the board."""
    answer = ssh.run(host, COPY, [facts.prefix, name, sha], data=model, timeout=600)
    if answer.code == 4:
        got = answer.out.strip().removeprefix("got=")
        raise BoardFailed(
            f"the model arrived with sha256 {got[:12]}..., not {sha[:12]}... (corrupted in transit or on the "
            "board's storage); the copy was removed and nothing switched."
        )
    if answer.code != 0:
        raise BoardFailed(f"copying the model there failed: {disk_words(answer.err)}")


PROVE = r"""
p="$1"; s="$2"; m="$3"
rm -rf "$s" && mkdir -p "$s/images" && tar -xf - -C "$s/images" || exit 3
"$p/venv/bin/edgecell" infer --model "$m" "$s/images" --top-k "$4" --warmup 0 --output "$s/verify.jsonl" \
  --quiet >/dev/null 2>"$s/err"
[ $? -le 1 ] || { tail -n 3 "$s/err" >&2; exit 4; }
"$p/venv/bin/edgecell" bench "$m" --runs "$5" --warmup 5 --json "$s/bench.json" >/dev/null 2>"$s/err" \
  || { tail -n 3 "$s/err" >&2; exit 5; }
cat "$s/verify.jsonl"; echo "--- bench ---"; cat "$s/bench.json"
rm -rf "$s"
"""


class Proof(NamedTuple):
    rows: list  # the board's `edgecell infer` rows (JSON Lines, parsed)
    bench: dict  # the board's `edgecell bench --json`


def prove(ssh: Ssh, host: Host, facts: Facts, name: str, sha: str, images_tar: bytes, top_k: int, runs: int) -> Proof:
    """Classify the held-out images on the board with its own `edgecell infer`, then a short bench."""
    stage = f"{facts.prefix}/deploy/{sha}"
    model = f"{facts.prefix}/models/{name}/{sha}.tflite"
    answer = ssh.run(host, PROVE, [facts.prefix, stage, model, top_k, runs], data=images_tar, timeout=900)
    if answer.code != 0:
        steps = {3: "unpacking the images", 4: "edgecell infer", 5: "edgecell bench"}
        what = steps.get(answer.code, "proving the model")
        raise BoardFailed(f"{what} failed there: {disk_words(answer.err)}")
    return read_proof(answer.out)


def read_proof(out: str) -> Proof:
    """The board's rows and bench JSON, checked for the fields the comparison reads: a reply in
    another shape is one sentence, not a KeyError later."""
    rows_text, _, bench_text = out.partition("--- bench ---")
    try:
        rows = [json.loads(line) for line in rows_text.splitlines() if line.strip()]
        for row in rows:
            _check_row(row)
        bench = json.loads(bench_text)
        invoke = bench["runs"][0]["invoke"]
        if not all(isinstance(invoke[q], (int, float)) for q in ("p50", "p90")):
            raise ValueError("bench latencies that are not numbers")
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise BoardFailed(
            f"the board's edgecell answered in a shape this one does not read ({type(error).__name__}: "
            f"{shortened(str(error))}); install the same edgecell version there (deploy --wheel)."
        ) from None
    return Proof(rows, bench)


def _check_row(row) -> None:
    if not isinstance(row, dict) or not isinstance(row.get("source"), str) or "status" not in row:
        raise ValueError("a row without a source and a status")
    if row["status"] == "ok":
        classes = row.get("top_k")
        if not isinstance(row.get("label"), str) or not isinstance(classes, list):
            raise ValueError(f"the row of {row['source']} without a label and top_k")
        for c in classes:
            if not isinstance(c, dict) or not isinstance(c.get("label"), str):
                raise ValueError(f"the row of {row['source']} has a class without a label")
            if not isinstance(c.get("score"), (int, float)):
                raise ValueError(f"the row of {row['source']} has a score that is not a number")


SWITCH = r"""
cd "$1/models/$2" || exit 3
new="$3"; old=$(readlink current 2>/dev/null || true)
[ -f "$new" ] || { echo "$new is not on the board" >&2; exit 3; }
if [ -n "$old" ] && [ "$old" != "$new" ]; then
  ln -sfn "$old" .previous.new && mv -Tf .previous.new previous || exit 4
fi
ln -sfn "$new" .current.new && mv -Tf .current.new current || exit 4
prev=$(readlink previous 2>/dev/null || true)
for f in *.tflite; do [ "$f" = "$new" ] || [ "$f" = "$prev" ] || rm -f "$f"; done
echo "old=$old"
"""


def switch(ssh: Ssh, host: Host, facts: Facts, name: str, target: str) -> Optional[str]:
    """Point `current` at `target` (a file name beside it), `previous` at what current was; keep those
    two models only. Returns the previous file name."""
    answer = ssh.run(host, SWITCH, [facts.prefix, name, target], timeout=60)
    if answer.code != 0:
        raise BoardFailed(f"switching the model failed: {disk_words(answer.err)}")
    return answer.out.strip().removeprefix("old=") or None


def forget(ssh: Ssh, host: Host, facts: Facts, name: str, sha: str) -> None:
    """After a failed proof: remove the copied model unless a link points at it, and the stage."""
    script = (
        'd="$1/models/$2"; f="$3.tflite"; rm -rf "$1/deploy/$3"; '
        '[ "$(readlink "$d/current")" = "$f" ] || [ "$(readlink "$d/previous")" = "$f" ] || rm -f "$d/$f"'
    )
    ssh.run(host, script, [facts.prefix, name, sha], timeout=60)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip() and not line.startswith("INFO:")]
    return shortened((lines[-1] if lines else "no message").removeprefix("Error: ").rstrip(".")) + "."


def shortened(text: str, limit: int = 300) -> str:
    """A board's words as they go into one sentence: at most `limit` characters, escapes shown."""
    text = printable(text)
    return text if len(text) <= limit else text[:limit] + "..."


def disk_words(text: str) -> str:
    if "No space left on device" in text:
        return "the board's disk is full (No space left on device); free some space or choose another --prefix."
    return last_line(text)
