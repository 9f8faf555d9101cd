"""TFLite's standard model metadata, read on the board without TensorFlow.

Models published for the TFLite Task Library, MediaPipe and Coral carry a `TFLITE_METADATA`
buffer (schema `metadata_schema.fbs`): a name, version and description, NormalizationOptions
(mean and std per channel) for a float input, and their labels as a file associated with the
output tensor, packed in a zip appended to the .tflite (the model file is also a zip).

The flatbuffer is read with code flatc generated from the published schema
(`_generated/metadata_schema_generated.py`) and the `flatbuffers` runtime, pure Python on every
board; the zip with `zipfile`. Only what a runner uses is touched (the first subgraph, its first
input and output), with every count and size checked, so a crafted file costs bounded time and
memory and any fault is a MetadataError.
"""

import io
import math
import struct
from dataclasses import dataclass
from typing import Optional

from edgecell.device.model.tflite_reader import MetadataError, read_entries

METADATA_NAME = "TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
MAX_ITEMS = 64  # process units or associated files of one tensor: real models have one or two
MAX_LABELS_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class StandardMetadata:
    name: str = ""
    version: str = ""
    description: str = ""
    author: str = ""
    license: str = ""
    input_description: str = ""
    output_description: str = ""
    mean: Optional[tuple] = None  # NormalizationOptions of the input, per channel
    std: Optional[tuple] = None
    labels: Optional[tuple] = None
    labels_file: str = ""  # the associated file the labels came from
    labels_locale: str = ""  # its locale ("" for the file without one)
    score_threshold: Optional[float] = None  # the output's ScoreThresholdingOptions: below it, low confidence


schema = None  # the generated reader: imported by the first model that has standard metadata (37 ms)


def _load_schema() -> None:
    global schema
    if schema is None:
        from edgecell.device.model._generated import metadata_schema_generated

        schema = metadata_schema_generated


def read(model: bytes, locale: str = "en", labels: bool = True) -> Optional[StandardMetadata]:
    """The standard metadata of a .tflite's bytes, or None when it has none.

    Labels are the display names of `locale` where the model has some, else its file without a
    locale (often machine ids), else its first labels file; `labels=False` skips reading them.
    """
    raw = read_entries(model).get(METADATA_NAME)
    if raw is None:
        return None
    _load_schema()
    if not schema.ModelMetadata.ModelMetadataBufferHasIdentifier(raw, 0):
        raise MetadataError(f"its {METADATA_NAME} buffer is not TFLite model metadata (no M001 identifier)")
    try:
        meta = schema.ModelMetadata.GetRootAs(raw, 0)
        found = _describe(meta)
        inputs, outputs = _first_tensors(meta)
        if inputs is not None:
            found.update(input_description=_text(inputs.Description()), **_normalisation(inputs))
        if outputs is not None:
            found["output_description"] = _text(outputs.Description())
            found["score_threshold"] = _score_threshold(outputs)
            chosen = _labels_file(outputs, locale) if labels else None
            if chosen is not None:
                found.update(labels_file=chosen[0], labels_locale=chosen[1], labels=_labels(model, chosen[0]))
    except (struct.error, IndexError, ValueError, TypeError, OverflowError) as error:
        if isinstance(error, MetadataError):
            raise
        raise MetadataError(f"its {METADATA_NAME} buffer is truncated or corrupt") from None
    return StandardMetadata(**found)


def _describe(meta) -> dict:
    return {
        "name": _text(meta.Name()),
        "version": _text(meta.Version()),
        "description": _text(meta.Description()),
        "author": _text(meta.Author()),
        "license": _text(meta.License()),
    }


def _first_tensors(meta):
    """(first input, first output) TensorMetadata of the first subgraph; None where absent."""
    if meta.SubgraphMetadataLength() < 1:
        return None, None
    graph = meta.SubgraphMetadata(0)
    first_input = graph.InputTensorMetadata(0) if graph.InputTensorMetadataLength() > 0 else None
    first_output = graph.OutputTensorMetadata(0) if graph.OutputTensorMetadataLength() > 0 else None
    return first_input, first_output


def _options(tensor, kind: str):
    """The first process unit of `tensor` whose options are `kind` (a ProcessUnitOptions name), as
    that options table, or None."""
    for index in range(_count(tensor.ProcessUnitsLength(), "process units")):
        unit = tensor.ProcessUnits(index)
        if unit.OptionsType() == getattr(schema.ProcessUnitOptions, kind):
            options, table = getattr(schema, kind)(), unit.Options()
            options.Init(table.Bytes, table.Pos)
            return options
    return None


def _normalisation(tensor) -> dict:
    options = _options(tensor, "NormalizationOptions")
    if options is not None:
        mean = _channels(options.MeanLength(), options.Mean, "mean")
        std = _channels(options.StdLength(), options.Std, "std")
        if std is not None and any(abs(v) < 1e-30 for v in std):
            raise MetadataError(f"its standard metadata NormalizationOptions std {list(std)} has a zero")
        return {"mean": mean, "std": std}
    return {}


def _score_threshold(tensor):
    """The output's global_score_threshold, or None when it has no ScoreThresholdingOptions."""
    options = _options(tensor, "ScoreThresholdingOptions")
    if options is None:
        return None
    value = float(options.GlobalScoreThreshold())
    return value if math.isfinite(value) else None  # a NaN threshold says nothing


def _channels(length: int, value, what: str):
    if length == 0:
        return None
    if length not in (1, 3):
        raise MetadataError(f"its standard metadata NormalizationOptions {what} has {length} values, not 1 or 3")
    return tuple(float(value(i)) for i in range(length))


def _labels_file(tensor, locale: str):
    """(name, locale) of the TENSOR_AXIS_LABELS file to show, or None when the tensor has none."""
    files = []
    for index in range(_count(tensor.AssociatedFilesLength(), "associated files")):
        file = tensor.AssociatedFiles(index)
        if file.Type() == schema.AssociatedFileType.TENSOR_AXIS_LABELS:
            files.append((_text(file.Name()), _text(file.Locale())))
    for wanted in (lambda f: f[1].lower() == locale.lower(), lambda f: not f[1], lambda f: True):
        for name, file_locale in files:
            if wanted((name, file_locale)):
                return name, file_locale
    return None


def _labels(model: bytes, name: str) -> tuple:
    """The labels file `name` from the zip appended to the model: one label a line."""
    import zipfile  # only a model with standard metadata packs a labels file

    missing = f"its standard metadata names labels file {name!r}, which is not packed in it"
    if not zipfile.is_zipfile(io.BytesIO(model)):
        raise MetadataError(missing)
    try:
        with zipfile.ZipFile(io.BytesIO(model)) as packed:
            try:
                info = packed.getinfo(name)
            except KeyError:
                raise MetadataError(missing) from None
            if info.file_size > MAX_LABELS_BYTES:
                raise MetadataError(f"its labels file {name!r} is over {MAX_LABELS_BYTES // 2**20} MB")
            with packed.open(info) as file:
                data = file.read(MAX_LABELS_BYTES + 1)  # the header's size may lie
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
        raise MetadataError(f"its packed associated files cannot be read ({error})") from None
    if len(data) > MAX_LABELS_BYTES:
        raise MetadataError(f"its labels file {name!r} is over {MAX_LABELS_BYTES // 2**20} MB")
    try:
        return tuple(line.strip() for line in data.decode("utf-8").splitlines() if line.strip())
    except UnicodeDecodeError:
        raise MetadataError(f"its labels file {name!r} is not UTF-8 text") from None


def _count(length: int, what: str) -> int:
    if length > MAX_ITEMS:
        raise MetadataError(f"its standard metadata lists {length} {what} for one tensor (at most {MAX_ITEMS} read)")
    return length


def _text(value) -> str:
    return value.decode("utf-8", errors="replace") if value else ""
