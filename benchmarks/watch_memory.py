"""What a hostile publisher costs `edgecell watch`: peak memory and output, side by side in one run.

    python benchmarks/watch_memory.py [--before PYTHON] [--seconds S]

One real Mosquitto on loopback holds three prefixes of retained messages: `quiet/` (one board's
stats), `big/` (the same and a 20 MB stats message) and `many/` (the same and 50,000 fake device
ids). `edgecell watch mqtt://.../PREFIX --duration S` runs on each, its stdout counted, its peak
resident memory taken from wait4's ru_maxrss through a bare launcher (so this process's own
memory does not count). `--before PYTHON` runs the same with another interpreter whose edgecell
is an older checkout, for before/after figures; the ratios are each prefix's peak over `quiet`'s.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LAUNCHER = (
    "import json, os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024]), file=open(sys.argv[1], 'w'))\n"
)
GOOD = json.dumps({"images_per_second": 5.0, "latency_ms": {"p50": 12.0}, "last_label": "bird"}).encode()


def start_broker(folder: Path):
    """Mosquitto on a free loopback port, queueing up to 100,000 messages a subscriber has not
    taken yet (its default, 1000, would drop most of the fake boards before watch saw them)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
    from benchmarks.mqtt import start_broker as started

    return started(folder, "max_queued_messages 100000\n")


def publish(port: int, messages) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hostile")
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for info in [client.publish(topic, payload, qos=1, retain=True) for topic, payload in messages]:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def watch(python: str, url: str, seconds: float) -> dict:
    """Peak RSS (MB), bytes printed and wall seconds of one `edgecell watch` run."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "peak.json")
        command = [python, "-c", LAUNCHER, report, python, "-m", "edgecell", "watch", url, "--duration", str(seconds)]
        start = time.monotonic()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        counted = {"out": 0}

        def count():
            while chunk := proc.stdout.read(1 << 16):
                counted["out"] += len(chunk)

        reader = threading.Thread(target=count)
        reader.start()
        err = proc.stderr.read()
        proc.wait()
        reader.join()
        code, peak = json.loads(Path(report).read_text())
    tail = err.decode(errors="replace").strip().splitlines()[-1:] if code else []
    return {"peak_mb": peak, "printed_kb": counted["out"] / 1e3, "seconds": time.monotonic() - start, "code": code,
            "error": tail}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="another interpreter whose edgecell is the code to compare with")
    parser.add_argument("--seconds", type=float, default=6.0, help="each watch run's --duration")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        broker, port = start_broker(Path(folder))
        try:
            for prefix in ("quiet", "big", "many"):
                publish(port, [(f"{prefix}/feeder/stats", GOOD)])
            publish(port, [("big/huge/stats", b'{"last_label": "' + b"x" * (20 << 20) + b'"}')])
            publish(port, [(f"many/fake{i}/status", b"online") for i in range(50_000)])
            pythons = [("after", sys.executable)] + ([("before", args.before)] if args.before else [])
            print(f"edgecell watch for {args.seconds:g} s on retained messages (peak RSS from ru_maxrss)")
            print(f"{'code':7} {'prefix':6} {'peak MB':>8} {'x quiet':>8} {'printed kB':>11} {'wall s':>7}  exit")
            for name, python in pythons:
                runs = {prefix: watch(python, f"mqtt://127.0.0.1:{port}/{prefix}", args.seconds)
                        for prefix in ("quiet", "big", "many")}  # fmt: skip
                for prefix, run in runs.items():
                    ratio = run["peak_mb"] / runs["quiet"]["peak_mb"]
                    print(f"{name:7} {prefix:6} {run['peak_mb']:8.1f} {ratio:8.2f} {run['printed_kb']:11.0f} "
                          f"{run['seconds']:7.1f}  {run['code']} {' '.join(run['error'])}")  # fmt: skip
        finally:
            broker.terminate()
            broker.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
