"""A real Mosquitto broker for the tests, on a free loopback port, and a subscriber that records.

`.ci/run` installs Debian's mosquitto when it is missing. The broker keeps its state on disk
(persistence), so a test can stop it and start it again on the same port and a subscriber with
a persistent session still gets what was published while it was away.
"""

import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def certificates(folder: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (openssl): the CA's PEM."""

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")  # EC: made in milliseconds
    openssl("req", "-x509", *key, "-days", "2", "-subj", "/CN=edgecell test CA", "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", *key, "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "server.pem")  # fmt: skip
    return folder / "ca.pem"


class Mosquitto:
    def __init__(self, folder: Path, tls: bool = False):
        self.folder, self.port, self.process, self.tls = folder, free_port(), None, tls
        self.config = folder / "mosquitto.conf"
        self.ca = certificates(folder) if tls else None
        tls_lines = f"cafile {self.ca}\ncertfile {folder}/server.pem\nkeyfile {folder}/server.key\n" if tls else ""
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "max_queued_messages 100000\n"
            f"log_dest file {folder}/mosquitto.log\n"
            # started as root, mosquitto would switch to the `mosquitto` user, who cannot write here
            f"user {getpass.getuser()}\n" + tls_lines
        )

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}/edgecell"

    def start(self):
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}: {self.log()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text()[-2000:] if path.exists() else ""


def running(folder: Path, tls: bool = False):
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    folder.mkdir()
    broker = Mosquitto(folder, tls).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mosquitto(tmp_path):
    yield from running(tmp_path / "broker")


@pytest.fixture
def mosquitto_tls(tmp_path):
    """The same broker behind TLS only: mqtts://, its CA's certificate as `.ca`."""
    yield from running(tmp_path / "broker-tls", tls=True)


class Recorder:
    """A subscriber with a persistent session (QoS 1) that keeps every message it gets."""

    def __init__(self, port: int, topics, client_id="recorder"):
        import paho.mqtt.client as mqtt

        self.messages, self.lock = [], threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_connect = lambda client, *args: client.subscribe([(t, 1) for t in topics])
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(5), "the recorder could not subscribe"

    def _on_message(self, client, userdata, message):
        with self.lock:
            self.messages.append((message.topic, message.payload.decode(), message.retain))

    def on(self, suffix: str) -> list:
        with self.lock:
            return [payload for topic, payload, _ in self.messages if topic.endswith(suffix)]

    def results(self) -> list:
        """Every result received, in order: each alone on `.../result`, or several in one `.../results`
        message (device/connect/mqtt.py)."""
        with self.lock:
            messages = [(topic, payload) for topic, payload, _ in self.messages]
        results = []
        for topic, payload in messages:
            if topic.endswith("/result"):
                results.append(json.loads(payload))
            elif topic.endswith("/results"):
                batch = json.loads(payload)
                assert batch["format"] == "edgecell.results/1" and batch["count"] == len(batch["results"]), batch
                results += batch["results"]
        return results

    def wait_for(self, predicate, timeout=10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return predicate(self)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


class Mqtt311Only:
    """A broker that speaks MQTT 3.1.1 and not 5, as Mosquitto before 1.6 does: a proxy on loopback
    in front of the real one that answers a CONNECT of protocol level 5 as MQTT 3.1.1 says a
    server must (section 3.1.2.2: CONNACK with return code 0x01, then close), and passes every
    other connection through untouched. `refused` counts the MQTT 5 attempts."""

    def __init__(self, broker: Mosquitto):
        self.upstream = broker.port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"mqtt://127.0.0.1:{self.port}/edgecell"
        self.refused = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        first = b""
        while len(first) < 16 and (chunk := client.recv(4096)):
            first += chunk
        end = 1  # the fixed header's remaining length: 1 to 4 bytes of 7 bits each
        while first[end] & 0x80:
            end += 1
        level = first[end + 7]  # after the protocol name: 0x00 0x04 "MQTT"
        if level == 5:
            self.refused += 1
            client.sendall(b"\x20\x02\x00\x01")
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream))
        upstream.sendall(first)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.close()
