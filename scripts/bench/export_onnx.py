#!/usr/bin/env python3
"""Exports a sentence-transformers BERT folder's transformer to ONNX, for the ONNX Runtime side
of the embedding benchmark, and checks the export against sentence-transformers.

Usage: export_onnx.py MODEL_DIR OUT.onnx [TEXTS_JSON]
Reads the folder's own safetensors (the weights Kindred reads), exports input_ids,
attention_mask and token_type_ids to last_hidden_state with dynamic batch and sequence axes
(opset 17, the graph ONNX Runtime optimises at load), then embeds TEXTS_JSON (or a few
sentences) both ways (mean pooling, L2 norm) and prints the lowest cosine (computed in
float64). Fails under 0.999999.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

from ort_embed import embed  # noqa: E402

SAMPLES = [
    "Organic cotton yoga mat, 6 mm, non-slip",
    "Cork yoga block. A firm, light block for standing poses.",
    "Gift card",
]


class LastHidden(torch.nn.Module):
    """The transformer with its inputs named, whatever order its forward takes them in."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        ).last_hidden_state


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    texts = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else SAMPLES
    model = AutoModel.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sample = tokenizer(SAMPLES, padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(model),
            tuple(sample[name] for name in names),
            out,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    reference = SentenceTransformer(model_dir, device="cpu")
    theirs = reference.encode(texts, batch_size=32, normalize_embeddings=True)
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    ours = embed(session, tokenizer, texts, reference.max_seq_length, 32)
    a, b = theirs.astype(np.float64), ours.astype(np.float64)
    cosines = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    lowest = float(np.min(cosines))
    print(json.dumps({"onnx": out, "texts": len(texts), "lowest_cosine": lowest}))
    if lowest < 0.999999:
        sys.exit(f"the ONNX export differs from sentence-transformers: cosine {lowest}")


if __name__ == "__main__":
    main()
