"""What the outbox's bounded fsync costs an append, side by side in one run.

    python benchmarks/outbox_sync.py [--records N] [--rounds R] [--folder DIR]

The same N result-sized records (about 400 bytes, as `--mqtt` queues them while the broker is
away) appended to a fresh `Outbox` in turns under three rules: fsync after every append (what
"nothing lost" would cost), at most once a second (`outbox.SYNC_S`, what edgecell does) and
never (what it did before: a power cut could leave a torn tail). Medians over the rounds of the
microseconds per append, and the ratio to "never". A round of the bounded rule lasts well under
a second, so it pays one fsync (at `close`) where "every append" pays N: the figure is what a
second of results costs the publisher thread, which the inference loop never waits for.
`--folder` puts the outboxes on the disk to measure (an SD card on a board); the default is the
system's temporary folder.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edgecell.device.connect import outbox  # noqa: E402

RULES = (("every append", 0.0), ("at most 1/s", 1.0), ("never", float("inf")))
RECORD = b'edgecell/pi/result\t{"source": "camera0#1", "status": "ok", "label": "bird", "score": 0.87' + b" " * 300


def per_append_us(folder: Path, records: int, sync_s: float) -> float:
    outbox.SYNC_S = sync_s
    with tempfile.TemporaryDirectory(dir=folder) as where:
        box = outbox.Outbox(Path(where) / "q", max_bytes=1 << 30)
        start = time.perf_counter()
        for _ in range(records):
            box.append(RECORD)
        elapsed = time.perf_counter() - start
        box.close()
    return elapsed / records * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args(argv)
    times = {name: [] for name, _ in RULES}
    for turn in range(args.rounds):  # in turns, each round in another order, so a busy moment of
        for name, sync_s in RULES[turn % 3 :] + RULES[: turn % 3]:  # the machine hits every rule
            times[name].append(per_append_us(args.folder, args.records, sync_s))
    base = statistics.median(times["never"])
    print(f"{args.records} appends x {args.rounds} rounds in {args.folder}")
    print(f"{'fsync':14} {'us/append':>10} {'x never':>8}")
    for name, _ in RULES:
        median = statistics.median(times[name])
        print(f"{name:14} {median:10.1f} {median / base:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
