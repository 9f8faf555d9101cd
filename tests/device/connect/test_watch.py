"""`edgecell watch`: the fleet table from a real Mosquitto, two boards publishing at once."""

import json
import signal
import subprocess
import time

import pytest
from support.cli import edgecell_command
from support.imagegen import digits_video
from support.mosquitto import Mqtt311Only
from support.peak_memory import run_cli

from edgecell.device.connect.watch_table import Fleet


@pytest.mark.slow
def test_two_boards_publishing_at_once(mosquitto, tmp_path):
    """Two real `edgecell infer --mqtt` processes (a video of one digit each, replayed as a camera)
    and `edgecell watch` in a third: the table has both boards, online, with their labels."""

    def edgecell(*args):
        command = edgecell_command(*args)
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    boards = [
        edgecell(
            *("infer", "--model", "demo", "--camera", digits_video(tmp_path / f"{name}.avi", digit, 10)),
            *("--max-fps", "30", "-q"),
            *("--mqtt", mosquitto.url, "--device-id", name, "--stats-every", "0.3", "--mqtt-outbox", tmp_path / name),
        )
        for name, digit in (("pi-a", "3"), ("pi-b", "7"))
    ]
    watcher = edgecell("watch", mosquitto.url, "--json", "-", "--every", "0.5", "--duration", "5")
    try:
        out, err = watcher.communicate(timeout=30)
    finally:
        for board in boards:
            board.send_signal(signal.SIGTERM)  # as systemd stops the service
        for board in boards:
            board.communicate(timeout=30)
    assert watcher.returncode == 0, err
    snapshots = [json.loads(line) for line in out.splitlines()]
    assert len(snapshots) >= 5
    seen = {row["device"]: row for row in snapshots[-1]["devices"]}
    assert set(seen) == {"pi-a", "pi-b"}, (snapshots[-1], [b.stderr for b in boards])
    assert seen["pi-a"]["online"] is True and seen["pi-a"]["last_label"] == "3"
    assert seen["pi-b"]["online"] is True and seen["pi-b"]["last_label"] == "7"
    assert seen["pi-a"]["images_per_second"] > 0 and seen["pi-b"]["latency_p50_ms"] > 0
    assert all(board.returncode == 0 for board in boards)


def test_the_table_and_what_it_ignores():
    t = time.time()
    fleet = Fleet("home/edgecell")
    fleet.on_message("home/edgecell/feeder/status", b"online", now=t)
    stats = {"images_per_second": 2.5, "latency_ms": {"p50": 12.25}, "last_label": "bird", "cpu_temperature_c": 51.0}
    fleet.on_message("home/edgecell/feeder/stats", json.dumps(stats).encode(), now=t + 1)
    fleet.on_message("home/edgecell/door/status", b"offline", now=t - 10)
    fleet.on_message("home/edgecell/door/stats", b"{not json", now=t - 5)  # garbled: ignored
    fleet.on_message("home/other/x/stats", b"{}", now=t - 5)  # another prefix
    lines = fleet.table(now=t + 11).splitlines()
    assert lines[0].split()[:2] == ["device", "online"]
    assert lines[1].split() == ["door", "NO", "-", "-", "-", "-", "21", "s", "ago"]
    assert lines[2].split() == ["feeder", "yes", "2.5", "12.25", "bird", "51.0", "10", "s", "ago"]
    assert [row["device"] for row in fleet.snapshot()["devices"]] == ["door", "feeder"]


def test_devices_past_the_cap_or_silent_too_long_are_not_kept():
    said = []
    fleet = Fleet("e", max_devices=3, forget_s=60, log=said.append)
    t = time.time()
    for i in range(5):
        fleet.on_message(f"e/pi{i}/status", b"online", now=t - 100 + i)
    assert [row["device"] for row in fleet.rows(now=t - 90)] == ["pi0", "pi1", "pi2"]
    assert len(said) == 1 and "more than 3 devices" in said[0] and fleet.refused == 2
    fleet.on_message("e/pi4/status", b"online", now=t)  # the others fell silent 60 s ago: room again
    assert [row["device"] for row in fleet.rows(now=t)] == ["pi4"]


def test_bad_messages_from_many_devices_are_logged_boundedly():
    said = []
    fleet = Fleet("e", log=said.append)
    for i in range(500):
        for _ in range(3):
            fleet.on_message(f"e/pi{i}/stats", b'{"images_per_second": "fast"}')
    assert len(said) == 101 and fleet.refused == 1500 and fleet.rows() == []
    assert said[0].endswith("its further bad messages are not logged.")
    assert said[-1].endswith("bad messages from other devices are not logged.")


def publish_retained(port, messages):
    """Publish [(topic, payload bytes)] retained with paho, as any client of the broker may."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"attacker-{time.monotonic_ns()}")
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1, retain=True) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(30)
        assert info.is_published(), "the broker did not take a message"
    client.disconnect()
    client.loop_stop()


def watch_process(broker, *args):
    command = edgecell_command("watch", broker.url, "--every", "0.3", *args)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


POISON = {
    "fast": b'{"images_per_second": "fast"}',
    "list": b'{"latency_ms": [1, 2]}',
    "p50list": b'{"latency_ms": {"p50": [1, 2]}}',
    "garbled": b'{"images_per_second": 1',
    "latin1": '{"last_label": "caf\xe9"}'.encode("latin-1"),
    "array": b"[1, 2, 3]",
    "huge": b'{"images_per_second": 1e999, "cpu_temperature_c": ' + b"9" * 5000 + b"}",
    "labelnum": b'{"last_label": 7}',
}


def test_poison_retained_messages_are_dropped_and_watch_goes_on(mosquitto):
    """Retained stats with a string or a list where a number belongs, bad JSON, bad UTF-8: the real
    `edgecell watch` logs each once, drops it, and keeps taking good messages after them."""
    good = {"images_per_second": 2.0, "latency_ms": {"p50": 10.0}, "last_label": "bird"}
    publish_retained(mosquitto.port, [(f"edgecell/{name}/stats", payload) for name, payload in POISON.items()])
    publish_retained(mosquitto.port, [("edgecell/good/stats", json.dumps(good).encode())])
    publish_retained(mosquitto.port, [("edgecell/fast/stats", POISON["fast"])])  # again: logged once only
    watcher = watch_process(mosquitto, "--json", "-", "--duration", "3")
    time.sleep(1.5)  # watch has the poison by now; a good update after it must still arrive
    publish_retained(mosquitto.port, [("edgecell/good/stats", json.dumps({**good, "images_per_second": 7.0}).encode())])
    out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0 and "Traceback" not in err, err
    last = {row["device"]: row for row in json.loads(out.splitlines()[-1])["devices"]}
    assert set(last) == {"good"} and last["good"]["images_per_second"] == 7.0
    dropped = [line for line in err.splitlines() if line.startswith("watch: dropped")]
    assert sorted(line.split()[6].rstrip(":") for line in dropped) == sorted(POISON)  # once per device
    assert any("images_per_second is 'fast', not a number" in line for line in dropped)
    assert any("latency_ms is [1, 2], not an object" in line for line in dropped)
    assert any("not UTF-8" in line for line in dropped)


def test_a_broker_without_mqtt5_is_watched_with_3_1_1(mosquitto):
    """Watch asks for MQTT 5 (for its packet limit); a broker that speaks only 3.1.1 refuses it,
    and watch says so once, connects with 3.1.1 and still refuses a big message unparsed."""
    old = Mqtt311Only(mosquitto)
    big = b'{"last_label": "' + b"x" * 100_000 + b'"}'
    good = json.dumps({"images_per_second": 2.0, "last_label": "bird"}).encode()
    publish_retained(mosquitto.port, [("edgecell/feeder/stats", good), ("edgecell/big/stats", big)])
    watcher = watch_process(old, "--json", "-", "--duration", "2.5")
    out, err = watcher.communicate(timeout=30)
    old.close()
    assert watcher.returncode == 0 and "Traceback" not in err, err
    assert err.count("speaks MQTT 3.1.1, not 5") == 1 and old.refused == 1, err
    assert "dropped a stats message from big: 100018 bytes, over the 64 KiB a watcher takes" in err
    last = json.loads(out.splitlines()[-1])
    assert [row["device"] for row in last["devices"]] == ["feeder"] and last["refused"] == 1


def test_escape_codes_in_ids_and_labels_are_shown_not_run(mosquitto):
    """A device id and labels that would clear the screen, draw a fake row, hide a link or turn
    the line around reach the operator's terminal as visible escapes. (Mosquitto refuses control
    characters in a topic; a device id with them is checked on the table below.)"""
    clear, osc = "\x1b[2J\x1b[H", "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07"
    publish_retained(
        mosquitto.port,
        [
            ("edgecell/pi\u202eevil/stats", json.dumps({"last_label": clear + "bird\nfake  yes  9.9"}).encode()),
            ("edgecell/cam/stats", json.dumps({"last_label": osc}).encode()),
        ],
    )
    out, err = watch_process(mosquitto, "--duration", "1").communicate(timeout=30)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    table = out.strip().split("\n\n")[-1].splitlines()
    assert len(table) == 3 and table[0].startswith("device")  # no fake row
    assert table[1].startswith("cam  ") and "\\x1b]8;;http://evil" in table[1]
    assert table[2].startswith("pi\\u202eevil  ") and "\\x1b[2J\\x1b[Hbird\\nfa" in table[2]
    fleet = Fleet("e")
    fleet.on_message(f"e/pi{clear}/status", b"online")
    assert fleet.table().splitlines()[1].startswith("pi\\x1b[2J\\x1b[H  ")


def test_a_20_mb_message_is_never_sent_to_watch(mosquitto, tmp_path):
    """A retained 20 MB stats message: the broker drops it for watch (its Maximum Packet Size),
    so watch's peak memory stays that of a quiet broker (figures: benchmarks/watch_memory.py)."""
    big = b'{"last_label": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    publish_retained(mosquitto.port, [("edgecell/big/stats", big), ("edgecell/feeder/status", b"online")])
    with open(tmp_path / "out.txt", "wb") as out:
        code, peak_mb = run_cli(["watch", mosquitto.url, "--duration", "2"], stdout=out, seconds=60)
    printed = (tmp_path / "out.txt").read_bytes()
    assert code == 0, printed[-2000:]
    assert b"feeder  yes" in printed and b"big" not in printed  # not shown, and not even received
    assert peak_mb < 45, peak_mb  # main's watch took 366 MB on it; a client that reads it, 90 to 100
    assert "Dropping too large outgoing PUBLISH" in mosquitto.log()
    assert b"lost" not in printed  # watch's own disconnect at the end is not a lost broker


@pytest.mark.slow
def test_50000_device_ids_keep_watch_bounded(mosquitto, tmp_path):
    """50,000 fake boards: watch keeps and draws 1000, says so once, and its memory and output stay bounded."""
    publish_retained(mosquitto.port, [(f"edgecell/fake{i}/status", b"online") for i in range(50_000)])
    with open(tmp_path / "out.txt", "wb") as out:
        code, peak_mb = run_cli(["watch", mosquitto.url, "--duration", "4"], stdout=out, seconds=60)
    printed = (tmp_path / "out.txt").read_bytes()
    assert code == 0, printed[-2000:]
    assert peak_mb < 45, peak_mb  # main's watch: 67 to 72 MB
    assert printed.count(b"more than 1000 devices") == 1 and len(printed) < 2_000_000
    tables = printed.decode().split("\n\n")  # stderr's line is in there too
    assert max(sum(line.startswith("fake") for line in table.splitlines()) for table in tables) == 1000
