"""Issue 14: what `--mqtt` costs the infer loop, measured side by side in one run.

    python benchmarks/mqtt.py [MODEL.tflite [--labels FILE]] [--threads N] [--frames N] [--rounds R]

The infer loop (`runner.run`) over the same in-memory 640x480 frames, in turns without and with
`--mqtt`'s parts: the `Publisher` sink (every result QoS 1, class-change events from a
`Detector`, stats every second) connected to a real Mosquitto on loopback, with `mosquitto_sub`
taking every message as a home-automation server would. The broker and the subscriber are their
own processes, as on a network; the publisher thread shares this process and its GIL with the
loop, which is what is measured. The ratios are of the medians of per-frame milliseconds over
the rounds, wall time and the process's CPU time (every thread: the publisher's work counts even
where a second core hides it from the wall time). Target: at most 1.05.
"""

import argparse
import getpass
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from benchmarks.serve import camera_frames  # noqa: E402
from edgecell.device import broker, events, image, runner, stats  # noqa: E402
from edgecell.device.model import Classifier  # noqa: E402
from edgecell.device.mqtt import Publisher  # noqa: E402
from edgecell.models import DEMO_MODEL  # noqa: E402

TARGET = 1.05


def start_broker(folder: Path):
    """Mosquitto on a free loopback port: (process, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = folder / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\nlog_dest none\n")
    process = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"mosquitto did not start on port {port}")


def loop_ms(classifier, frames, sinks=()) -> tuple:
    """(wall ms, CPU ms of the whole process: every thread) per frame of one run over `frames`."""
    detector = events.Detector(classifier.labels, smooth=3, hold=2)

    def on_result(result):
        for sink in sinks:
            sink.write(result)
        if sinks and (event := detector.update(result)) is not None:
            events.dispatch(sinks, event)

    start, cpu = time.perf_counter(), time.process_time()
    summary = runner.run(classifier, iter(frames), warmup=0, prefetch=0, on_result=on_result)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    for sink in sinks:
        sink.close()
    assert summary["images"]["done"] == len(frames)
    return wall * 1000.0 / len(frames), cpu * 1000.0 / len(frames)


def published_ms(classifier, frames, target, folder) -> tuple:
    """(per-frame ms, messages delivered) of one round with the publisher connected."""
    sink = Publisher(target, "bench", folder / "outbox", stats_every=1.0, log=lambda m: None)
    for _ in range(100):
        if sink.connected:
            break
        time.sleep(0.05)
    return loop_ms(classifier, frames, [sink]), sink


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(DEMO_MODEL))
    parser.add_argument("--labels", help="labels file, for a model without edgecell metadata")
    parser.add_argument("--threads", type=int, help="interpreter threads (default: the runtime's choice)")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    classifier = Classifier(args.model, labels=args.labels, threads=args.threads)
    decoded = [image.load_rgb(p) for p in sorted((DEMO_MODEL.parent / "images").glob("*.png"))]
    frames = camera_frames(args.frames, decoded)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        process, port = start_broker(folder)
        subscriber = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "edgecell/#", "-q", "1"],
            stdout=subprocess.DEVNULL,
        )
        target = broker.parse_url(f"mqtt://127.0.0.1:{port}/edgecell")
        times, delivered, dropped = {"without": [], "with --mqtt": []}, 0, 0
        try:
            loop_ms(classifier, frames[:200])  # warm up
            for i in range(args.rounds):
                for name in list(times) if i % 2 == 0 else reversed(list(times)):
                    if name == "without":
                        times[name].append(loop_ms(classifier, frames))
                    else:
                        ms, sink = published_ms(classifier, frames, target, folder)
                        times[name].append(ms)
                        delivered += sink.report()["delivered"]
                        dropped += sink.report()["dropped"]
        finally:
            subscriber.terminate()
            process.terminate()
            subscriber.wait(10)
            process.wait(10)

    print(
        f"per-frame cost, {args.frames} 640x480 frames x {args.rounds} rounds in turns "
        f"({delivered} messages delivered to a real Mosquitto and mosquitto_sub, {dropped} dropped), "
        "medians of the rounds:"
    )
    for column, label in ((0, "wall"), (1, "CPU (all threads)")):
        without, published = (stats.latency(t[column] for t in times[name]).p50 for name in times)
        ratio = published / without
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(f"  {label:18s} without {without * 1000:7.1f} us  with --mqtt {published * 1000:7.1f} us  ", end="")
        print(f"ratio {ratio:.3f} (target <= {TARGET}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
