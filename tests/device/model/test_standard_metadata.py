"""Models from elsewhere answer right with no flags: TFLite's standard metadata read on the device
path, labels files as people have them, and one precedence (flags, edgecell metadata, standard
metadata, convention). Real files: Google's quantized MobileNet from Coral's test data in
../shared/peer-models (its own standard metadata and labels zip), and models edgecell writes."""

import io
import zipfile

import pytest
from support.paths import PEER
from typer.testing import CliRunner

from edgecell.cli.main import app
from edgecell.converters import flatbuffer, standard_metadata_writer
from edgecell.core.labels import parse_labels
from edgecell.device.input.image import load_rgb
from edgecell.device.model import standard_metadata
from edgecell.device.model._generated import metadata_schema_generated as schema
from edgecell.device.model.classifier import Classifier
from edgecell.device.model.tflite_reader import read_entries

MOBILENET = PEER / "mobilenet_v1_0.25_128_quant.tflite"

pytestmark = pytest.mark.skipif(not MOBILENET.exists(), reason=f"the shared peer models are not at {PEER}")


def infer(*args):
    return CliRunner().invoke(app, ["infer", *[str(a) for a in args]])


def top1(classifier, name):
    from edgecell.device.model.scores import top_k

    return top_k(classifier.classify(load_rgb(PEER / name)), classifier.labels)[0]


@pytest.mark.parametrize("image, label", [("bird.bmp", "chickadee"), ("pets.jpg", "Saluki, gazelle hound")])
def test_the_peer_model_answers_right_with_no_flags(image, label):
    result = infer(PEER / image, "--model", MOBILENET)
    assert result.exit_code == 0, result.output
    assert f"  {label} 0." in result.output


def test_the_peer_model_says_where_labels_and_normalisation_come_from():
    classifier = Classifier(MOBILENET)
    assert classifier.labels_source == "standard metadata: imagenet_labels.txt, the file without locale"
    # uint8 input: its quantization (scale 1/128, zero point 128) is the normalisation; the metadata's
    # NormalizationOptions (127.5, 127.5) are for float inputs, as in the Task Library.
    assert classifier.normalisation.raw and classifier.normalisation.notice is None
    assert classifier.normalisation.source.startswith("convention: an integer input")
    meta = classifier.standard_metadata
    assert (meta.name, meta.mean, meta.std, len(meta.labels)) == ("ImageClassifier", (127.5,), (127.5,), 1001)


def test_user_flags_come_before_standard_metadata(tmp_path):
    """--labels wins, and --mean/--std replace the convention (pixels normalised, then quantized)."""
    names = tmp_path / "names.txt"
    names.write_text("".join(f"class {i}\n" for i in range(1001)))
    classifier = Classifier(MOBILENET, labels=names, mean=[127.5], std=[127.5])
    assert classifier.labels_source == f"--labels {names}" and not classifier.normalisation.raw
    assert classifier.normalisation.source == "--mean and --std"
    assert top1(classifier, "bird.bmp").label == "class 20"  # (x-127.5)/127.5 quantized at 1/128: same answer


def test_pycoral_labels_files_index_label_lines_with_gaps(tmp_path):
    plain = (PEER / "imagenet_labels.txt").read_text().splitlines()
    indexed = tmp_path / "indexed.txt"
    indexed.write_text("".join(f"{i}  {name}\n" for i, name in enumerate(plain)))
    assert top1(Classifier(MOBILENET, labels=indexed), "bird.bmp").label == "chickadee"
    sparse = tmp_path / "sparse.txt"
    sparse.write_text("20:chickadee\n17 bulbul\n")
    classifier = Classifier(MOBILENET, labels=sparse)
    assert classifier.labels[20] == "chickadee" and classifier.labels[17] == "bulbul" and classifier.labels[0] == "0"


def test_parse_labels_tells_the_two_formats_apart():
    assert parse_labels("0  person\n1  bicycle\n\n3 car\n") == {0: "person", 1: "bicycle", 3: "car"}
    assert parse_labels("cat\n3 dogs\n") == {0: "cat", 1: "3 dogs"}  # not every line indexed: a plain list
    assert parse_labels("7\n8\n9\n") == {0: "7", 1: "8", 2: "9"}  # digit class names are names
    with pytest.raises(ValueError, match="index 1 appears twice"):
        parse_labels("1 a\n1 b\n")


@pytest.mark.parametrize(
    "content, message",
    [
        ("cat\ndog\n", "has 1001 outputs but --labels {path} lists 2 labels; they must match one to one"),
        ("0 cat\n1001 dog\n", "has 1001 outputs but --labels {path} lists indices up to 1001"),
        ("1 a\n1 b\n", "Labels file {path} is not usable: index 1 appears twice; give each index once."),
    ],
)
def test_labels_that_do_not_fit_are_one_sentence(tmp_path, content, message):
    path = tmp_path / "labels.txt"
    path.write_text(content)
    result = infer(PEER / "bird.bmp", "--model", MOBILENET, "--labels", path)
    assert result.exit_code == 2
    assert message.format(path=path) in result.output and "Traceback" not in result.output


def with_label_files(content: bytes, files: dict) -> bytes:
    """The peer model with its labels as `files` {(name, locale): lines}, packed as a zip after it."""
    raw = read_entries(content)[standard_metadata.METADATA_NAME]
    meta = schema.ModelMetadataT.InitFromPackedBuf(bytearray(raw), 0)
    output = meta.subgraphMetadata[0].outputTensorMetadata[0]
    output.associatedFiles = []
    for name, locale in files:
        file = schema.AssociatedFileT()
        file.name, file.locale, file.type = name, locale, schema.AssociatedFileType.TENSOR_AXIS_LABELS
        output.associatedFiles.append(file)
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=b"M001")
    packed = io.BytesIO(flatbuffer.set_metadata(content, standard_metadata.METADATA_NAME, bytes(builder.Output())))
    packed.seek(0, io.SEEK_END)
    with zipfile.ZipFile(packed, "a") as archive:
        for (name, _), lines in files.items():
            archive.writestr(name, "\n".join(lines) + "\n")
    return packed.getvalue()


def test_display_names_of_the_locale_else_the_file_without_locale(tmp_path):
    ids = [f"/m/{i:05d}" for i in range(1001)]
    english = (PEER / "imagenet_labels.txt").read_text().splitlines()
    french = ["mésange" if i == 20 else f"classe {i}" for i in range(1001)]
    model = tmp_path / "locales.tflite"
    files = {("ids.txt", ""): ids, ("labels_en.txt", "en"): english, ("labels_fr.txt", "fr"): french}
    model.write_bytes(with_label_files(MOBILENET.read_bytes(), files))
    assert top1(Classifier(model), "bird.bmp").label == "chickadee"
    assert Classifier(model).labels_source == "standard metadata: labels_en.txt, display names (en)"
    assert top1(Classifier(model, locale="fr"), "bird.bmp").label == "mésange"
    german = Classifier(model, locale="de")
    assert top1(german, "bird.bmp").label == "/m/00020"
    assert german.labels_source == "standard metadata: ids.txt, the file without locale"


def test_broken_standard_metadata_is_one_sentence(tmp_path):
    content = MOBILENET.read_bytes()
    cases = {
        # repacking the flatbuffer drops the appended zip: the labels file is named but not there
        "unzipped.tflite": (
            flatbuffer.set_metadata(content, "min_runtime_version", b"1.5.0"),
            "its standard metadata names labels file 'imagenet_labels.txt', which is not packed in it",
        ),
        "not_metadata.tflite": (
            flatbuffer.set_metadata(content, standard_metadata.METADATA_NAME, b"\x08\x00\x00\x00XXXX" + bytes(64)),
            "its TFLITE_METADATA buffer is not TFLite model metadata (no M001 identifier)",
        ),
        "truncated.tflite": (
            flatbuffer.set_metadata(content, standard_metadata.METADATA_NAME, b"\xff\xff\x00\x00M001" + bytes(8)),
            "its TFLITE_METADATA buffer is truncated or corrupt",
        ),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        result = infer(PEER / "bird.bmp", "--model", tmp_path / name)
        assert result.exit_code == 2, (name, result.output)
        assert f"Model file {tmp_path / name} is not usable: {message}." in result.output, result.output
    # --labels skips the labels the metadata names, so a model that lost its zip still runs
    names = tmp_path / "names.txt"
    names.write_text((PEER / "imagenet_labels.txt").read_text())
    assert top1(Classifier(tmp_path / "unzipped.tflite", labels=names), "bird.bmp").label == "chickadee"


def test_standard_metadata_written_by_edgecell_reads_back(tmp_path):
    """The writer's flatbuffer and zip, read by the device reader: labels, description, no
    NormalizationOptions for an integer input."""
    content = flatbuffer.set_metadata(MOBILENET.read_bytes(), "min_runtime_version", b"1.5.0")  # zip dropped
    labels = (PEER / "imagenet_labels.txt").read_text().splitlines()
    written = standard_metadata_writer.embed(content, labels, {}, name="peer", version="7", author="A. Uthor")
    meta = standard_metadata.read(written)
    assert (meta.name, meta.version, meta.author, meta.labels_file) == ("peer", "7", "A. Uthor", "labels.txt")
    assert meta.labels == tuple(labels) and meta.mean is None
    model = tmp_path / "rewritten.tflite"
    model.write_bytes(written)
    assert top1(Classifier(model), "bird.bmp").label == "chickadee"


def test_info_and_infer_say_where_labels_and_normalisation_come_from(tmp_path):
    result = CliRunner().invoke(app, ["info", str(MOBILENET)])
    assert result.exit_code == 0, result.output
    assert "labels 1001: background, tench, Tinca tinca," in result.output
    assert "  from standard metadata: imagenet_labels.txt, the file without locale" in result.output
    assert "  from convention: an integer input takes the 8-bit pixels as they are" in result.output
    assert "standard metadata: ImageClassifier" in result.output
    result = infer(PEER / "bird.bmp", "--model", MOBILENET)
    assert "labels from standard metadata: imagenet_labels.txt" in result.output


def test_locale_flag_picks_the_display_names(tmp_path):
    english = (PEER / "imagenet_labels.txt").read_text().splitlines()
    french = ["mésange" if i == 20 else f"classe {i}" for i in range(1001)]
    model = tmp_path / "locales.tflite"
    model.write_bytes(with_label_files(MOBILENET.read_bytes(), {("en.txt", "en"): english, ("fr.txt", "fr"): french}))
    result = infer(PEER / "bird.bmp", "--model", model, "--locale", "fr")
    assert result.exit_code == 0 and "  mésange 0." in result.output, result.output
    result = CliRunner().invoke(app, ["info", str(model), "--locale", "fr"])
    assert "  from standard metadata: fr.txt, display names (fr)" in result.output, result.output
