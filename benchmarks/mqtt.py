"""Issue 14: what `--mqtt` costs the infer loop, measured side by side in one run.

    python benchmarks/mqtt.py [MODEL.tflite [--labels FILE]] [--threads N] [--frames N] [--rounds R] [--with-serve]

The infer loop (`runner.run`) over the same in-memory 640x480 frames, in turns without and with
`--mqtt`'s parts: the `Publisher` sink (every result QoS 1, class-change events from a
`Detector`, stats every second) connected to a real Mosquitto on loopback, with `mosquitto_sub`
taking every message as a home-automation server would. The broker and the subscriber are their
own processes, as on a network; the publisher thread shares this process and its GIL with the
loop, which is what is measured. The ratios are of the medians of per-frame milliseconds over
the rounds, wall time and the process's CPU time (every thread: the publisher's work counts even
where a second core hides it from the wall time). Target: at most 1.05. A second bare loop in
the same turns (A/A) shows how far two identical contenders differ on this machine.

A third contender sends every result alone (`--no-mqtt-batch`), as every result was sent before
results that come together went several to a message.

With `--with-serve`, a fourth contender has both: the publisher and `--serve`'s parts as
benchmarks/serve.py sets them up (the `Live` sink and frame tap, the server on loopback, a page
polling it twice a second from its own process), which is issue 14's "MQTT publishing and
`--serve` together add at most 5%". The server's threads count in the CPU time; the page, the
broker and the subscriber, like a browser and a home-automation server, do not.
"""

import argparse
import getpass
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from benchmarks.serve import Served, camera_frames  # noqa: E402
from edgecell.device.connect import broker  # noqa: E402
from edgecell.device.connect.mqtt import Publisher, Publishing  # noqa: E402
from edgecell.device.input import image  # noqa: E402
from edgecell.device.loop import events, runner  # noqa: E402
from edgecell.device.measure import stats  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402
from edgecell.models import DEMO_MODEL  # noqa: E402

TARGET = 1.05


def start_broker(folder: Path, extra: str = ""):
    """Mosquitto on a free loopback port: (process, port); `extra`, more lines of its config."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\nlog_dest none\n{extra}"
    )
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
    """(wall ms, CPU ms of the whole process: every thread) per frame of one run over `frames`;
    a sink with `tap` (the live page's) sees each frame on its way in, as in `infer.run`."""
    detector = events.Detector(classifier.labels, smooth=3, hold=2)
    source = frames
    for sink in sinks:
        if hasattr(sink, "tap"):
            source = sink.tap(source)

    def on_result(result):
        for sink in sinks:
            sink.write(result)
        if sinks and (event := detector.update(result)) is not None:
            events.dispatch(sinks, event)

    start, cpu = time.perf_counter(), time.process_time()
    summary = runner.run(classifier, iter(source), warmup=0, prefetch=0, on_result=on_result)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    for sink in sinks:
        sink.close()
    assert summary["images"]["done"] == len(frames)
    return wall * 1000.0 / len(frames), cpu * 1000.0 / len(frames)


def published_ms(classifier, frames, target, folder, also=(), batch=True) -> tuple:
    """(per-frame ms, the publisher) of one round with the publisher connected, and `also` sinks;
    `batch` False sends each result alone (`--no-mqtt-batch`)."""
    settings = Publishing(stats_every=1.0, batch=batch)
    sink = Publisher(target, "bench", folder / "outbox", settings, log=lambda m: None)
    for _ in range(100):
        if sink.connected:
            break
        time.sleep(0.05)
    return loop_ms(classifier, frames, [sink, *also]), sink


def one_round(name, classifier, frames, target, folder, counts) -> tuple:
    """(wall ms, CPU ms) per frame of contender `name`; adds its messages and requests to `counts`."""
    if name.startswith("without"):
        return loop_ms(classifier, frames)
    parts = Served(classifier) if name.endswith("--serve") else None
    try:
        also = [parts.live] if parts else []
        ms, sink = published_ms(classifier, frames, target, folder, also, batch="--no-mqtt-batch" not in name)
    finally:
        if parts is not None:
            counts["page requests"] += parts.close()
    for key in ("delivered", "dropped"):
        counts[key] += sink.report()[key]
    return ms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(DEMO_MODEL))
    parser.add_argument("--labels", help="labels file, for a model without edgecell metadata")
    parser.add_argument("--threads", type=int, help="interpreter threads (default: the runtime's choice)")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--with-serve", action="store_true", help="also the loop with --mqtt and --serve together")
    args = parser.parse_args(argv)
    classifier = Classifier(args.model, labels=args.labels, threads=args.threads)
    decoded = [image.load_rgb(p) for p in sorted((DEMO_MODEL.parent / "images").glob("*.png"))]
    frames = camera_frames(args.frames, decoded)
    serve = ["with --mqtt --serve"] if args.with_serve else []
    names = ["without", "with --mqtt", "with --no-mqtt-batch", *serve, "without, again"]
    times, counts = {name: [] for name in names}, Counter()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        process, port = start_broker(folder)
        subscriber = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "edgecell/#", "-q", "1"],
            stdout=subprocess.DEVNULL,
        )
        target = broker.parse_url(f"mqtt://127.0.0.1:{port}/edgecell")
        try:
            loop_ms(classifier, frames[:200])  # warm up
            for i in range(args.rounds):  # in turns, the order reversed every other round
                for name in names if i % 2 == 0 else reversed(names):
                    times[name].append(one_round(name, classifier, frames, target, folder, counts))
        finally:
            subscriber.terminate()
            process.terminate()
            subscriber.wait(10)
            process.wait(10)

    page = f", {counts['page requests']} requests from a polling page" if args.with_serve else ""
    print(
        f"per-frame cost, {args.frames} 640x480 frames x {args.rounds} rounds in turns ({counts['delivered']} "
        f"results delivered to a real Mosquitto and mosquitto_sub, {counts['dropped']} dropped{page}), "
        f"medians of the rounds; target <= {TARGET}:"
    )
    print(f"  {'':22s} {'wall us/frame':>13s}  {'ratio':13s}  {'CPU us/frame':>12s}  ratio (all threads)")
    medians = {name: [stats.latency(t[column] for t in times[name]).p50 for column in (0, 1)] for name in names}
    for name in names:
        cells = []
        for column, bare in enumerate(medians["without"]):
            value = medians[name][column]
            ratio = "" if name == "without" else f"{value / bare:.3f}"
            if ratio and name.startswith("without"):
                ratio += " A/A"
            elif ratio:
                ratio += " met" if value / bare <= TARGET else " NOT met"
            cells.append(f"{value * 1000:{12 + (column == 0)}.1f}  {ratio:13s}")
        print(f"  {name:22s} " + "  ".join(cells).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
