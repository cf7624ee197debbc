#!/usr/bin/env python3
"""Reference timing for the embedding benchmark: sentence-transformers (PyTorch) on the CPU.

Usage: st_embed.py MODEL_DIR TEXTS_JSON ROUNDS
Loads the model once (not timed), then embeds all texts ROUNDS times, each round timed on its
own, with sentence-transformers' defaults (batch 32, length-sorted batches, truncation at the
model's max_seq_length). Prints one JSON line: {"seconds": [...], "threads": N}.
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main():
    model_dir, texts_path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    texts = json.load(open(texts_path))
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(texts[:64], batch_size=32)  # warm-up
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        model.encode(texts, batch_size=32, normalize_embeddings=True)
        seconds.append(time.perf_counter() - started)
    print(json.dumps({"seconds": seconds, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
