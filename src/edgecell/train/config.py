"""How a training run was made, saved as `config.json` beside the model it produced."""

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from edgecell.core.modelfolder import CONFIG_FILE  # noqa: F401  (read by config users)
from edgecell.device.input import decode_scale


@dataclass
class TrainConfig:
    data_dir: str  # class-folder dataset: one subfolder per class
    out_dir: str  # where model.keras and its reports go
    arch: str = "edge"  # edge | tutorial (the tutorial's network; "seed" before 0.2) | mobilenetv2
    weights: str = "none"  # none | imagenet (mobilenetv2 only)
    img_size: int = 200  # square input, as in the tutorial
    epochs: int = 60  # a ceiling: early stopping on the validation set decides (best weights restored)
    batch_size: int = 16
    test_split: float = 0.2  # held out for testing, stratified
    val_split: float = 0.1  # of the training part, for early stopping
    seed: int = 4  # the tutorial's seed: split, weight init and shuffling
    augment: str = "upright"  # policy (pipeline.AUGMENT_POLICIES): none | upright | any-orientation | classic
    patience: int = 10  # epochs without val_loss improvement before stopping early
    class_weight: str = "auto"  # auto (balanced weights when the classes are unbalanced) | balanced | none
    learning_rate: float = 1e-3  # Adam
    distribute: str = "none"  # none | mirrored (every GPU or logical CPU of one machine) | multiworker (TF_CONFIG)
    resume: bool = False  # continue from <out_dir>/backup/, written after every epoch, if a run was interrupted
    cache: str = ""  # file prefix (or folder) for decoded images, written on the first epoch; "" streams from disk
    decode: str = decode_scale.DEFAULT  # decode rule (device/input/decode_scale.py); "full" with --full-decode

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        data = {**data, "decode": data.get("decode", decode_scale.UNRECORDED)}  # older runs decoded every pixel
        if isinstance(data.get("augment"), bool):  # before policies: a flag for the classic flips and rotations
            data["augment"] = "classic" if data["augment"] else "none"
        data.setdefault("class_weight", "none")  # older runs weighted every class alike
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def read(cls, model_dir) -> "TrainConfig":
        return cls.from_json(json.loads((Path(model_dir) / CONFIG_FILE).read_text()))
