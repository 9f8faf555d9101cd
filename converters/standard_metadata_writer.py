"""TFLite's standard model metadata, written into every export beside edgecell's own, so the
model names its classes in MediaPipe Tasks, the TFLite Task Library and the Android and
Raspberry Pi samples built on them.

What they read: the input is an RGB image (ImageProperties) and, for a float input, how pixels
are normalised (NormalizationOptions; MediaPipe refuses a float model without it); the output's
labels are a TENSOR_AXIS_LABELS file packed in a zip appended to the .tflite. The flatbuffer is
built with the object API flatc generated from the published schema
(`edgecell.device.model._generated`), the same code the board reads it with; no TensorFlow and no
tflite-support, whose wheel pins protobuf < 4 beside TensorFlow's newer one.
"""

import io
import zipfile

import flatbuffers

from edgecell.converters import flatbuffer
from edgecell.device.model._generated import metadata_schema_generated as schema
from edgecell.device.model.standard_metadata import FILE_IDENTIFIER, METADATA_NAME

LABELS_FILE = "labels.txt"
MIN_PARSER_VERSION = "1.0.0"  # every field written here is in the schema's first version
FLOAT_INPUTS = ("FLOAT32", "FLOAT16")


def build(labels, input_type: str, mean=(0.0,), std=(1.0,), score_threshold=None, **about):
    """The TFLITE_METADATA flatbuffer of an image classifier with `labels` (as LABELS_FILE); `about`
    holds its name, version, description, author and license. With `score_threshold`, the output's
    ScoreThresholdingOptions (MediaPipe's ImageClassifier drops results scoring below it)."""
    image = schema.TensorMetadataT()
    image.name = "image"
    image.description = "RGB image, 8-bit pixels (0..255)."
    image.content = schema.ContentT()
    image.content.contentPropertiesType = schema.ContentProperties.ImageProperties
    image.content.contentProperties = schema.ImagePropertiesT()
    image.content.contentProperties.colorSpace = schema.ColorSpaceType.RGB
    if input_type in FLOAT_INPUTS:
        options = schema.NormalizationOptionsT()
        options.mean, options.std = [float(v) for v in mean], [float(v) for v in std]
        unit = schema.ProcessUnitT()
        unit.optionsType, unit.options = schema.ProcessUnitOptions.NormalizationOptions, options
        image.processUnits = [unit]
        image.stats = schema.StatsT()
        image.stats.max = [(255.0 - m) / s for m, s in zip(options.mean, options.std)]
        image.stats.min = [(0.0 - m) / s for m, s in zip(options.mean, options.std)]

    scores = schema.TensorMetadataT()
    scores.name = "probability"
    scores.description = f"Probabilities of the {len(labels)} classes, in the order of {LABELS_FILE}."
    scores.content = schema.ContentT()
    scores.content.contentPropertiesType = schema.ContentProperties.FeatureProperties
    scores.content.contentProperties = schema.FeaturePropertiesT()
    scores.stats = schema.StatsT()
    scores.stats.max, scores.stats.min = [1.0], [0.0]
    labels_file = schema.AssociatedFileT()
    labels_file.name = LABELS_FILE
    labels_file.description = "Labels for the classes the model can recognise, one a line."
    labels_file.type = schema.AssociatedFileType.TENSOR_AXIS_LABELS
    scores.associatedFiles = [labels_file]
    if score_threshold is not None:
        options = schema.ScoreThresholdingOptionsT()
        options.globalScoreThreshold = float(score_threshold)
        unit = schema.ProcessUnitT()
        unit.optionsType, unit.options = schema.ProcessUnitOptions.ScoreThresholdingOptions, options
        scores.processUnits = [unit]

    graph = schema.SubGraphMetadataT()
    graph.inputTensorMetadata, graph.outputTensorMetadata = [image], [scores]
    meta = schema.ModelMetadataT()
    meta.name, meta.description = about.get("name", ""), about.get("description", "")
    meta.version, meta.author, meta.license = (about.get(key) or None for key in ("version", "author", "license"))
    meta.subgraphMetadata = [graph]
    meta.minParserVersion = MIN_PARSER_VERSION
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def with_labels_zip(content: bytes, labels) -> bytes:
    """`content` (a flatbuffer with nothing after it) with LABELS_FILE in a zip appended to it.

    zipfile in append mode on bytes that are not a zip adds the archive after them, with offsets
    from the start of the file, as tflite-support's writer packs associated files.
    """
    buffer = io.BytesIO(content)
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as packed:
        packed.writestr(LABELS_FILE, "".join(f"{label}\n" for label in labels))
    return buffer.getvalue()


def embed(content: bytes, labels, other_entries: dict, **fields) -> bytes:
    """`content` with `other_entries` ({name: bytes}) and its standard metadata, labels packed last
    (any repacking of the flatbuffer drops an appended zip)."""
    standard = build(labels, flatbuffer.input_type(content), **fields)
    packed = flatbuffer.set_metadata_entries(content, {**other_entries, METADATA_NAME: standard})
    return with_labels_zip(packed, labels)
