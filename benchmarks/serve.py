"""Issue 14: what `--serve` costs the infer loop, and /classify's round trip against a bare classify.

    python benchmarks/server.py [MODEL.tflite] [--frames N] [--rounds R] [--requests M]

1. Per-frame cost: the infer loop (`runner.run`) over the same in-memory 640x480 frames, in turns
   without and with `--serve`'s parts: the `Live` sink and frame tap, the server on loopback, and
   a client process polling /status.json and /frame.jpg twice a second as an open live page does.
   The ratio is of the medians of per-frame milliseconds over the rounds; a second bare loop in
   the same turns shows how far two identical contenders differ on this machine, and the loop
   thread's CPU time per frame leaves out waiting for a CPU. Target: at most 1.05.
2. /classify on loopback (the server in its own process, one keep-alive connection, a PNG body)
   against `Classifier.classify` of the same decoded image here: p50 and p99 of each, and their
   ratios (reported; the round trip adds HTTP parsing, decoding the body and JSON).
"""

import argparse
import http.client
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from edgecell.device.http import server  # noqa: E402
from edgecell.device.http.live_state import Live  # noqa: E402
from edgecell.device.input import image  # noqa: E402
from edgecell.device.input.frame import Frame  # noqa: E402
from edgecell.device.loop import runner  # noqa: E402
from edgecell.device.measure import stats  # noqa: E402
from edgecell.device.model.classifier import Classifier  # noqa: E402
from edgecell.models import DEMO_MODEL  # noqa: E402

TARGET = 1.05


def camera_frames(count: int, images) -> list:
    """`count` 640x480 frames cycling through `images` (enlarged, with sensor-like noise); the
    pixels are shared between frames of the same image, so memory stays at len(images) frames."""
    rng = np.random.default_rng(0)
    pixels = []
    for picture in images:
        big = cv2.resize(picture, (640, 480), interpolation=cv2.INTER_NEAREST)
        pixels.append(np.clip(big.astype(np.int16) + rng.integers(-8, 9, big.shape), 0, 255).astype(np.uint8))
    return [Frame(f"frame#{i}", pixels[i % len(pixels)]) for i in range(count)]


PAGE = """
import http.client, sys, time
connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
requests = 0
while True:
    for path in ("/status.json", "/frame.jpg"):
        connection.request("GET", path)
        connection.getresponse().read()
        requests += 1
    print(requests, flush=True)
    time.sleep(0.5)
"""


class Page:
    """A live page's traffic, from its own process as a browser's would be: /status.json and
    /frame.jpg twice a second."""

    def __init__(self, port: int):
        self.process = subprocess.Popen([sys.executable, "-c", PAGE, str(port)], stdout=subprocess.PIPE, text=True)
        self.process.stdout.readline()  # its first poll is done: the page is open

    def close(self) -> int:
        """Stop it; the number of requests it made."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        return 2 + 2 * len(out.split())


def loop_ms(classifier, frames, live=None) -> tuple:
    """(wall ms, the loop thread's CPU ms) per frame of one run over `frames`."""
    start, cpu = time.perf_counter(), time.thread_time()
    source = frames if live is None else live.tap(frames)
    summary = runner.run(classifier, iter(source), warmup=0, prefetch=0, on_result=live.write if live else None)
    assert summary["images"]["done"] == len(frames)
    return (time.perf_counter() - start) * 1000.0 / len(frames), (time.thread_time() - cpu) * 1000.0 / len(frames)


def sink_us(classifier, frames) -> float:
    """Microseconds per frame the loop itself spends on --serve: the tap and `Live.write`, timed
    alone over the results of one real run (the part that cannot overlap anything)."""
    results = []
    runner.run(classifier, iter(frames), warmup=0, prefetch=0, on_result=results.append)
    live = Live()
    start = time.perf_counter()
    for _ in range(5):
        for _, result in zip(live.tap(frames), results):
            live.write(result)
    return (time.perf_counter() - start) * 1e6 / (5 * len(frames))


class Served:
    """`--serve`'s parts for one round: the `Live` sink (`live`, for the loop), the server on
    loopback and a page polling it (benchmarks/mqtt.py adds them to its publisher's rounds)."""

    def __init__(self, classifier):
        self.live = Live(str(classifier.path), classifier.runtime.name)
        self.server = server.Server(server.Address("127.0.0.1", 0), self.live, server.Classify(classifier)).start()
        try:
            self.page = Page(self.server.server_address[1])
        except BaseException:
            self.server.close()
            raise

    def close(self) -> int:
        """Stop the page and the server; the number of requests the page made."""
        try:
            return self.page.close()
        finally:
            self.server.close()


def served_ms(classifier, frames) -> tuple:
    """(per-frame ms, page requests) of one round with the server up and a page polling it."""
    parts = Served(classifier)
    try:
        ms = loop_ms(classifier, frames, parts.live)
    finally:
        requests = parts.close()
    return ms, requests


def per_frame(classifier, frames, rounds: int) -> dict:
    """Rounds in turns: the bare loop (no server at all), then the loop with --serve's parts.
    {name: wall Latency, name cpu: the loop thread's CPU Latency, page_requests}."""
    times, requests = {"without": [], "with --serve": [], "without, again": []}, 0
    loop_ms(classifier, frames[:200])  # warm up
    for i in range(rounds):
        for name in list(times) if i % 2 == 0 else reversed(list(times)):
            if name.startswith("without"):
                times[name].append(loop_ms(classifier, frames))
            else:
                ms, count = served_ms(classifier, frames)
                times[name].append(ms)
                requests += count
    wall = {name: stats.latency(v[0] for v in values) for name, values in times.items()}
    cpu = {f"{name} cpu": stats.latency(v[1] for v in values) for name, values in times.items()}
    return wall | cpu | {"page_requests": requests}


SERVER = """
import sys
from edgecell.device.http import server
from edgecell.device.model.classifier import Classifier
server.run(Classifier(sys.argv[1]), server.Serving("127.0.0.1:0"), on_signals=True, log=lambda line: None,
          ready=lambda server: print(server.server_address[1], flush=True))
"""


def round_trip(model, body: bytes, requests: int) -> dict:
    """The server in its own process, as a board runs it (no GIL shared with this client)."""
    classifier = Classifier(model)
    rgb = image.decode_rgb(body)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(model)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    bare, http_ms = [], []
    try:
        port = int(process.stdout.readline())
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(requests + 20):
            start = time.perf_counter()
            classifier.classify(rgb)
            middle = time.perf_counter()
            connection.request("POST", "/classify", body=body, headers={"Content-Type": "image/png"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            if i >= 20:  # the first requests warm the connection and the handler
                bare.append((middle - start) * 1000.0)
                http_ms.append((time.perf_counter() - middle) * 1000.0)
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    return {"bare classify": stats.latency(bare), "/classify round trip": stats.latency(http_ms)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(DEMO_MODEL))
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    classifier = Classifier(args.model)
    pictures = sorted((DEMO_MODEL.parent / "images").glob("*.png"))
    decoded = [image.load_rgb(p) for p in pictures]

    frames = camera_frames(args.frames, decoded)
    loop = per_frame(classifier, frames, args.rounds)
    without, served = loop["without"], loop["with --serve"]
    ratio = served.p50 / without.p50
    print(
        f"per-frame cost, {args.frames} 640x480 frames x {args.rounds} rounds in turns ({loop['page_requests']} "
        "requests from a polling page during the --serve rounds; no server in the others):"
    )
    print(f"  without --serve  {without.p50 * 1000:8.1f} us/frame (median of rounds)")
    print(f"  with --serve     {served.p50 * 1000:8.1f} us/frame")
    print(f"  ratio            {ratio:8.3f}  (target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})")
    again = loop["without, again"].p50 / without.p50
    print(f"  A/A check        {again:8.3f}  (the bare loop against itself: the noise of this machine)")
    fastest = f"{served.min * 1000:.1f} against {without.min * 1000:.1f} us"
    print(f"  fastest rounds   {served.min / without.min:8.3f}  ({fastest})")
    alone = sink_us(classifier, frames)
    print(f"  the sink alone   {alone:8.1f} us/frame ({alone / (without.p50 * 1000):.2%} of a bare frame)")
    cpu, bare_cpu = loop["with --serve cpu"], loop["without cpu"]
    print(
        f"  loop thread CPU  {cpu.p50 / bare_cpu.p50:8.3f}  ({cpu.p50 * 1000:.1f} against {bare_cpu.p50 * 1000:.1f} "
        "us/frame: its own work, whatever else the machine runs)"
    )

    trip = round_trip(args.model, pictures[3].read_bytes(), args.requests)
    bare, http_ms = trip["bare classify"], trip["/classify round trip"]
    print(f"/classify on loopback, {args.requests} requests, one keep-alive connection, {pictures[3].name}:")
    for name, value in trip.items():
        print(f"  {name:22s} p50 {value.p50:7.3f} ms   p99 {value.p99:7.3f} ms")
    print(f"  ratio                  p50 {http_ms.p50 / bare.p50:7.1f} x    p99 {http_ms.p99 / bare.p99:7.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
