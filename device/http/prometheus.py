"""`/metrics`: a run's counts, latency histogram, rate and temperature in Prometheus' text format.

prometheus-client (pure Python, no dependencies) writes the format, so escaping, `# HELP` and
`# TYPE` lines, cumulative `le` buckets and `+Inf` are right by construction. The numbers are not
kept in its metric objects: a collector reads them from `Live` on each scrape, so the loop pays
nothing for Prometheus, and each server has its own registry (no global state between runs).
"""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from edgecell.device.http.live_state import BOUNDS_MS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class LiveCollector:
    def __init__(self, live):
        self.live = live

    def collect(self):
        live = self.live
        images = CounterMetricFamily("edgecell_images", "Images classified, by status.", labels=["status"])
        images.add_metric(["ok"], live.done)
        images.add_metric(["failed"], live.failed)
        yield images

        cumulative, buckets = 0, []
        for bound, count in zip([*BOUNDS_MS, float("inf")], list(live.buckets)):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else _le(bound / 1000.0), cumulative))
        yield HistogramMetricFamily(
            "edgecell_latency_seconds",
            "Time per image: decode, preprocess, invoke and postprocess.",
            buckets=buckets,
            sum_value=live.latency_sum_ms / 1000.0,
        )

        rates = live.rates()
        yield GaugeMetricFamily(
            "edgecell_images_per_second", "Images classified a second, recently.", rates["images_per_second"]
        )
        yield GaugeMetricFamily("edgecell_uptime_seconds", "Seconds since the server started.", live.uptime())
        reading = live.sensor.read()
        if reading.celsius is not None:
            yield GaugeMetricFamily("edgecell_cpu_temperature_celsius", "CPU temperature.", reading.celsius)
        if reading.throttled is not None:
            yield GaugeMetricFamily(
                "edgecell_throttled", "vcgencmd get_throttled bits (0: never throttled).", reading.throttled
            )
        if live.drift is not None:
            yield from _drift(live.drift.report())


def _drift(report: dict):
    """The last window's PSI against the reference and the threshold drift begins over (loop/drift.py)."""
    index = GaugeMetricFamily(
        "edgecell_drift_psi", "PSI of the last window against the export's reference.", labels=["of"]
    )
    limit = GaugeMetricFamily("edgecell_drift_threshold", "The PSI over which drift begins.", labels=["of"])
    for position, of in enumerate(("scores", "classes")):
        if report["judged"]:
            index.add_metric([of], (report["score_psi"], report["class_psi"])[position])
        limit.add_metric([of], report["thresholds"]["enter"][position])
    yield index
    yield limit
    yield GaugeMetricFamily("edgecell_drifting", "1 while drift lasts.", int(report["drifting"]))
    yield CounterMetricFamily("edgecell_drift_events", "Drift events: begun and ended.", report["events"])


def registry(live) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LiveCollector(live))
    return reg


def render(reg: CollectorRegistry) -> bytes:
    return generate_latest(reg)


def _le(seconds: float) -> str:
    return repr(seconds) if seconds != int(seconds) else f"{seconds:.1f}"
