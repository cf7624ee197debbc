#!/usr/bin/env python3
"""Reference timing for the embedding benchmarks: sentence-transformers (PyTorch).

Usage: st_embed.py MODEL_DIR TEXTS_JSON ROUNDS [DEVICE [DTYPE]]
DEVICE is cpu (default) or cuda; DTYPE float32 (default) or float16 (the model is cast with
.half(), as one runs it on a GPU). Loads the model once (not timed), then embeds all texts
ROUNDS times, each round timed on its own, with sentence-transformers' length-sorted batches
and truncation at the model's max_seq_length (batch 32 on the CPU, its default; 128 on a GPU,
where larger batches keep it busy). Prints one JSON line with the seconds of each round.
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main():
    model_dir, texts_path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    dtype = sys.argv[5] if len(sys.argv) > 5 else "float32"
    batch_size = 32 if device == "cpu" else 128
    texts = json.load(open(texts_path))
    model = SentenceTransformer(model_dir, device=device)
    if dtype == "float16":
        model = model.half()
    model.encode(texts[:64 if device == "cpu" else 512], batch_size=batch_size)  # warm-up
    seconds = []
    for _ in range(rounds):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    print(json.dumps({
        "seconds": seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "device": device,
        "dtype": dtype,
        "batch_size": batch_size,
    }))


if __name__ == "__main__":
    main()
