"""Peak memory of the laptop side while a board floods its reply: 200 MB on standard output.

    python benchmarks/deploy_replies.py [--mb 200]

Side by side in one run, each in a process of its own (benchmarks/spawn.py, so each peak is its own):
  before  subprocess.run(capture_output=True) and a decode, as `Ssh.run` read a reply until now
          (and once more with the probe's parse of its lines after it)
  capped  deploy/replies.py's run_capped: read in blocks, stopped past 16 MiB of standard output
The "board" is a local `sh` printing the flood: what is measured is the reading side, as over SSH.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

SPAWN = Path(__file__).with_name("spawn.py")

READERS = {
    "before": (
        "import subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "out = done.stdout.decode(errors='replace')\n"
        "print(len(out), file=sys.stderr)\n"
    ),
    "before, then parsed as the probe did": (
        "import subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "out = done.stdout.decode(errors='replace')\n"
        "seen = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)\n"
        "print(len(seen), file=sys.stderr)\n"
    ),
    "capped": (
        "import sys\n"
        "from edgecell.deploy.replies import ReplyTooLarge, run_capped\n"
        "try:\n"
        "    out = run_capped(sys.argv[1:]).out.decode(errors='replace')\n"
        "except ReplyTooLarge as error:\n"
        "    print(error, file=sys.stderr)\n"
    ),
}


def peak(reader: str, flood: list) -> dict:
    done = subprocess.run(
        [sys.executable, str(SPAWN), sys.executable, "-c", READERS[reader], *flood],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the flood in MB")
    args = parser.parse_args()
    # lines of 100 bytes, `x=...`: what the probe reads as NAME=VALUE lines
    flood = ["sh", "-c", f"yes x=$(head -c 97 /dev/zero | tr '\\0' x) | head -c {args.mb * 10**6}"]
    baseline = peak("capped", ["true"])  # the interpreter and edgecell's import, no reply
    results = {name: peak(name, flood) for name in READERS}
    print(f"a {args.mb} MB reply on standard output; peak resident memory of the reading process:")
    print(f"  {'no reply (interpreter and import)':<37} {baseline['peak_mb']:7.1f} MB")
    for name, got in results.items():
        print(f"  {name:<37} {got['peak_mb']:7.1f} MB  in {got['seconds']:.2f} s")
    for name in READERS:
        if name != "capped":
            print(f"  {name} / capped: {results[name]['peak_mb'] / results['capped']['peak_mb']:.1f}x")


if __name__ == "__main__":
    main()
