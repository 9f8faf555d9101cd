"""`edgecell infer --mqtt / --webhook / --smooth / --hold` as a user runs it: the real CLI in a
subprocess, a real Mosquitto, a generated video of digits, the results file checked line by line."""

import json
import os
import signal
import subprocess
import time

import pytest
from support.cli import edgecell_command
from support.imagegen import digits_video
from support.mosquitto import Recorder
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.models import DEMO_IMAGES


def edgecell(*args, **kwargs):
    return subprocess.Popen(
        edgecell_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_a_broker_restarted_mid_run_gets_every_result_and_the_file_none_twice(mosquitto, tmp_path):
    video = digits_video(tmp_path / "digits.avi", "3737", 50)  # 200 frames
    recorder = Recorder(mosquitto.port, ["edgecell/+/result", "edgecell/+/results", "edgecell/+/event"])
    results = tmp_path / "results.jsonl"
    run = edgecell(
        *("infer", "--model", "demo", "--camera", video, "--max-fps", "40", "--limit", "200"),
        *("--quiet", "--output", results),
        *("--mqtt", mosquitto.url, "--device-id", "cam", "--mqtt-outbox", tmp_path / "outbox", "--hold", "3"),
        *("--json", tmp_path / "summary.json"),
    )
    try:
        assert recorder.wait_for(lambda r: len(r.results()) >= 30, 20), run.stderr.read()
        mosquitto.stop()
        time.sleep(1.0)  # about 40 frames classified with no broker
        mosquitto.start()
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err
    assert "lost" in err and "again" in err  # the outage and the reconnect, on stderr
    assert recorder.wait_for(lambda r: {x["seq"] for x in r.results()} >= set(range(1, 201)), 15)
    first_seen = list(dict.fromkeys(x["seq"] for x in recorder.results()))
    assert first_seen == list(range(1, 201))  # in order (a repeat after a lost ack is allowed)
    written = rows(results)
    frames = [r["source"] for r in written if r["status"] == "ok"]
    assert len(frames) == 200 and len(set(frames)) == 200  # no result twice in the file
    changes = [(r["previous"], r["label"]) for r in written if r["status"] == "event"]
    assert changes == [(None, "3"), ("3", "7"), ("7", "3"), ("3", "7")]
    published = [json.loads(p) for p in recorder.on("/event")]
    assert [(e["previous"], e["label"]) for e in published] == changes
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["events"] == 4 and summary["mqtt"]["reconnects"] >= 1
    assert summary["mqtt"]["waiting_on_disk"] == 0 and summary["mqtt"]["dropped"] == 0
    recorder.close()


def test_the_last_will_says_offline_after_a_sigkill(mosquitto, tmp_path):
    video = digits_video(tmp_path / "digits.avi", "3", 20)
    recorder = Recorder(mosquitto.port, ["edgecell/+/status"])
    run = edgecell(
        *("infer", "--model", "demo", "--camera", video, "--max-fps", "20", "--quiet"),
        *("--mqtt", mosquitto.url, "--device-id", "doomed", "--mqtt-outbox", tmp_path / "outbox"),
        start_new_session=True,
    )
    try:
        assert recorder.wait_for(lambda r: r.on("/status")[-1:] == ["online"], 20), run.stderr.read()
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        assert recorder.wait_for(lambda r: r.on("/status")[-1:] == ["offline"], 10)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
    assert [topic for topic, _, _ in recorder.messages] == ["edgecell/doomed/status"] * 2
    recorder.close()


def test_webhook_and_events_from_the_cli(tmp_path):
    from test_webhook import Receiver

    receiver = Receiver()
    video = digits_video(tmp_path / "digits.avi", "373", 6)
    results = tmp_path / "results.csv"
    try:
        result = CliRunner().invoke(
            app,
            ["infer", str(video), "--model", "demo", "-o", str(results), "--webhook", receiver.url]
            + ["--smooth", "2", "--hold", "2", "-q"],
        )
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert result.exit_code == 0, result.output
    assert [(b["previous"], b["label"]) for b in receiver.bodies] == [(None, "3"), ("3", "7"), ("7", "3")]
    assert "3 class-change event(s)" in result.output and "webhook" in result.output
    assert results.read_text().count(",event,") == 3


def test_mqtts_with_the_brokers_ca(mosquitto_tls, tmp_path):
    """TLS for real: a throwaway CA, a broker that speaks only TLS; a CA that did not sign the
    broker's certificate gets nothing delivered and says so on stderr."""
    summary = tmp_path / "summary.json"
    common = ["infer", str(DEMO_IMAGES), "--model", "demo", "-q", "--mqtt", mosquitto_tls.url, "--json", str(summary)]
    good = CliRunner().invoke(app, [*common, "--mqtt-ca", str(mosquitto_tls.ca), "--mqtt-outbox", str(tmp_path / "a")])
    assert good.exit_code == 0, good.output
    assert json.loads(summary.read_text())["mqtt"]["delivered"] == 20  # ten results, ten events (ten digits)
    other = tmp_path / "other"
    other.mkdir()
    from support.mosquitto import certificates

    wrong = CliRunner().invoke(
        app, [*common, "--mqtt-ca", str(certificates(other)), "--mqtt-outbox", str(tmp_path / "b")]
    )
    assert wrong.exit_code == 0 and "cannot reach" in wrong.output, wrong.output
    assert json.loads(summary.read_text())["mqtt"]["waiting_on_disk"] == 20, wrong.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mqtt", "mqtt://broker"], "needs a topic prefix"),
        (["--mqtt", "mqtt://broker/x", "--device-id", "a/b"], "one MQTT topic level"),
        (["--mqtt-ca", "{ca}"], "--mqtt-ca applies to MQTT"),
        (["--webhook", "broker:1880"], "is not an http:// or https:// URL"),
        (["--ha-discovery"], "--ha-discovery applies to MQTT"),
    ],
)
def test_usage_errors_are_one_sentence(tmp_path, args, message):
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    args = [a.format(ca=ca) for a in args]
    result = CliRunner().invoke(app, ["infer", str(DEMO_IMAGES), "--model", "demo", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_env_settings_as_the_service_gives_them(tmp_path):
    """The systemd unit sets EDGECELL_* variables; an empty one is off."""
    env = {"EDGECELL_WEBHOOK": "", "EDGECELL_MQTT": "", "EDGECELL_SMOOTH": "2", "EDGECELL_HOLD": "1"}
    result = CliRunner().invoke(app, ["infer", str(DEMO_IMAGES), "--model", "demo", "-q"], env=env)
    assert result.exit_code == 0, result.output
    assert "class-change event(s)" in result.output and "mqtt" not in result.output


def test_a_torn_outbox_is_cut_back_and_the_rest_delivered(mosquitto, tmp_path):
    """A power cut mid-write leaves the outbox's last record half written, and a disk may return
    garbage for another: the real `edgecell infer --mqtt` cuts the torn tail off, skips the
    garbage, delivers every whole record, says so once each, and counts both in the summary."""
    outbox, summary = tmp_path / "outbox", tmp_path / "summary.json"
    command = ["infer", DEMO_IMAGES, "--model", "demo", "-q", "--mqtt", mosquitto.url, "--device-id", "pi"]
    command += ["--mqtt-outbox", outbox, "--json", summary, "--no-mqtt-batch"]  # a record a result
    mosquitto.stop()
    first = subprocess.run(edgecell_command(*command), capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and json.loads(summary.read_text())["mqtt"]["waiting_on_disk"] == 20, first.stderr
    (segment,) = outbox.glob("*.q")
    data = segment.read_bytes()
    segment.write_bytes(b"\xff\xfe\x00garbage\n" + data[:-25] + b"\x00" * 300)  # the last of 20 records cut short
    mosquitto.start()
    recorder = Recorder(mosquitto.port, ["edgecell/pi/result", "edgecell/pi/results", "edgecell/pi/event"])
    again = subprocess.run(edgecell_command(*command), capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert again.stderr.count("cut short") == 1 and again.stderr.count("not a topic and a message") == 1
    report = json.loads(summary.read_text())["mqtt"]
    assert report["delivered"] == 19 + 20 and report["damaged"] == 2 and report["dropped"] == 2, report
    assert report["waiting_on_disk"] == 0
    assert recorder.wait_for(lambda r: len(r.messages) >= 39)
    assert [json.loads(p)["seq"] for p in recorder.on("/result")] == list(range(1, 11)) * 2
    recorder.close()


def test_results_keep_their_identity_across_a_kill_and_a_restart(mosquitto, tmp_path):
    """SIGKILL mid-run, then the service starts again: `seq` starts at 1 again, so a consumer that
    skips a `seq` it has seen would drop good results; (`run`, `seq`) names each result once, and
    what the killed run left in the outbox arrives with the killed run's id."""
    video = digits_video(tmp_path / "digits.avi", "37", 50)
    recorder = Recorder(mosquitto.port, ["edgecell/cam/result", "edgecell/cam/results"])
    command = ["infer", "--model", "demo", "--camera", video, "--max-fps", "40", "-q", "--mqtt", mosquitto.url]
    command += ["--device-id", "cam", "--mqtt-outbox", tmp_path / "outbox"]
    killed = edgecell(*command, start_new_session=True)
    try:
        assert recorder.wait_for(lambda r: len(r.results()) >= 30, 30), killed.stderr.read()
    finally:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
    before = len(recorder.results())
    restarted = edgecell(*command, "--limit", "40")
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    assert recorder.wait_for(lambda r: sum(x["seq"] == 40 for x in r.results()) >= 1, 15)
    results = recorder.results()
    runs = list(dict.fromkeys(r["run"] for r in results))
    assert len(runs) == 2 and all(len(run) == 16 for run in runs)
    by_seq, by_identity = {}, {}
    for r in results:
        by_seq.setdefault(r["seq"], set()).add(json.dumps(r, sort_keys=True))
        by_identity.setdefault((r["run"], r["seq"]), set()).add(json.dumps(r, sort_keys=True))
    assert any(len(payloads) > 1 for payloads in by_seq.values())  # `seq` alone: different results collide
    assert all(len(payloads) == 1 for payloads in by_identity.values())  # a repeat is the same result again
    for run in runs:  # each run's results are 1, 2, ... in order
        first_seen = list(dict.fromkeys(r["seq"] for r in results if r["run"] == run))
        assert first_seen == list(range(1, len(first_seen) + 1))
    assert len(results) > before
    recorder.close()
