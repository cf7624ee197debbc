#!/usr/bin/env python3
"""Copies a sentence-transformers model folder with its weights in float16.

Usage: f16-model.py SOURCE_DIR TARGET_DIR

The GPU runs the model in f16 anyway (candle casts the weights when it loads them), and half
the bytes keep the benchmark bundle under the machine's transfer limit. Standard library only:
a safetensors file is an 8-byte header length, a JSON header and the raw tensors; each F32
tensor is rewritten as F16 (`struct`'s "e" format, round to nearest even), others are copied.
"""
import json
import shutil
import struct
import sys
from array import array
from pathlib import Path

SMALL_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
]


def main():
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    for name in SMALL_FILES:
        if (source / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / name, target / name)

    raw = (source / "model.safetensors").read_bytes()
    header_len = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + header_len])
    body = raw[8 + header_len :]
    tensors = {name: spec for name, spec in header.items() if name != "__metadata__"}
    out_header = {"__metadata__": header.get("__metadata__", {})}
    chunks, offset = [], 0
    for name, spec in sorted(tensors.items(), key=lambda item: item[1]["data_offsets"][0]):
        start, end = spec["data_offsets"]
        data = body[start:end]
        dtype = spec["dtype"]
        if dtype == "F32":
            floats = array("f")
            floats.frombytes(data)
            if sys.byteorder != "little":
                floats.byteswap()
            data = struct.pack("<%de" % len(floats), *floats)
            dtype = "F16"
        out_header[name] = {"dtype": dtype, "shape": spec["shape"], "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(out_header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the tensors start 8-byte aligned
    with open(target / "model.safetensors", "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for data in chunks:
            out.write(data)


if __name__ == "__main__":
    main()
