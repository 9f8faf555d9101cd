"""What an export is asked for (`Settings`, the command's flags) and what every variant it makes
is converted and checked with (`Context`): typed, so the variant loop and the fallback search
take one object each instead of a dozen positional values."""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple, Optional

from edgecell.converters.compat import Target
from edgecell.converters.convert import Variant
from edgecell.core.errors import EdgecellError
from edgecell.device.measure.accuracy import DEFAULT_INCONCLUSIVE, Inconclusive

DEFAULT_MAX_DROP = 1.0  # accuracy points a variant may lose against Keras
DEFAULT_CALIBRATION_IMAGES = 300
DEFAULT_FALLBACK_LAYERS = 6
DEFAULT_FALLBACK_SECONDS = 120.0
DEFAULT_UNKNOWN_TARGET = 0.95  # accuracy the answers given must reach (converters/unknown_threshold.py)
DEFAULT_UNKNOWN_CONFIDENCE = 0.95  # how sure that is, over the draw of the held-out images


class Limits(NamedTuple):
    """How far `--fallback` may go: layers kept in float, and seconds before no new candidate starts."""

    max_float_layers: int = DEFAULT_FALLBACK_LAYERS
    seconds: float = DEFAULT_FALLBACK_SECONDS


@dataclass(frozen=True)
class Settings:
    """The flags of `edgecell export`, with the library's defaults."""

    variants: tuple = (Variant.int8,)
    max_drop: float = DEFAULT_MAX_DROP
    calib_samples: int = DEFAULT_CALIBRATION_IMAGES
    data: Optional[Path] = None  # a class folder to check on instead of the held-out split
    target: Optional[Target] = None  # fail a variant this board runtime cannot load
    threads: Optional[int] = None
    fallback: Optional[Limits] = None  # search for an int8 model within budget (`--fallback`)
    full_decode: bool = False  # decode every pixel, whatever the model folder's decode rule says
    inconclusive: Inconclusive = DEFAULT_INCONCLUSIVE  # what a drop the images cannot judge counts as
    check_val: bool = False  # also check on the validation split (`--check-val`)
    check_data: Optional[Path] = None  # also check on this class folder (`--check-data`)
    check_unknown: Optional[Path] = None  # images of none of the classes, for the unknown threshold only
    unknown_target: float = DEFAULT_UNKNOWN_TARGET  # `--unknown-target`
    unknown_confidence: float = DEFAULT_UNKNOWN_CONFIDENCE  # `--unknown-confidence`

    def checked(self) -> "Settings":
        """The same settings with variants deduplicated and typed; a bad value is one sentence."""
        try:
            variants = tuple(dict.fromkeys(Variant(v) for v in self.variants))
        except ValueError as error:
            raise EdgecellError(f"{error}; give int8, float16, dynamic or float32.") from None
        if not variants:
            raise EdgecellError("No variant to export; give --quantize int8|float16|dynamic|float32 or --all.")
        if self.max_drop < 0:
            raise EdgecellError(
                f"--max-drop {self.max_drop:g} is negative; give the accuracy points a variant may lose, e.g. 1.0."
            )
        if self.calib_samples < 1:
            raise EdgecellError(f"--calib-samples {self.calib_samples} is too small; give at least 1 (default 300).")
        shares = (("--unknown-target", self.unknown_target), ("--unknown-confidence", self.unknown_confidence))
        for flag, value in shares:
            if not 0.0 < value < 1.0:
                raise EdgecellError(f"{flag} {value:g} is not between 0 and 1; give a share such as 0.95.")
        if self.fallback is not None and Variant.int8 not in variants:
            raise EdgecellError("--fallback searches for an int8 model within budget; add --quantize int8.")
        return replace(
            self,
            variants=variants,
            target=Target(self.target) if self.target else None,
            inconclusive=Inconclusive(self.inconclusive),
        )


@dataclass(frozen=True)
class Context:
    """The Keras model and the images every variant is checked against."""

    settings: Settings
    model: Any  # the Keras model
    classes: list
    input_size: tuple  # (height, width)
    images: Any  # check.HeldOut: the images every variant is checked on (check_images.py)
    keras_scores: Any  # Keras' probabilities on them
    calibrated: Any = None  # calibration.Calibration, for int8
    validation: Any = None  # check.HeldOut of the validation split, to choose int8 weight granularity
    out: Path = Path(".")  # the export folder
    labelled: bool = True  # False for a pretrained folder: its check images carry Keras' answers, not labels
    unknown_images: Any = None  # check.HeldOut of `--check-unknown`, labelled -1
