"""`edgecell info`'s description: the model is loaded once, through the Classifier infer builds."""

from edgecell.converters.describe import describe
from edgecell.device.model import runtime
from edgecell.models import DEMO_MODEL


def test_a_classifier_is_loaded_once_and_described_as_infer_sees_it(monkeypatch):
    loads = []
    real = runtime.load

    def counted(*args, **kwargs):
        loads.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime, "load", counted)
    described = describe(DEMO_MODEL)
    assert loads == [str(DEMO_MODEL)]
    assert described["labels"]["source"] == "edgecell metadata" and len(described["labels"]["names"]) == 10
    assert described["inputs"][0]["shape"][0] == 1 and "not_usable" not in described
