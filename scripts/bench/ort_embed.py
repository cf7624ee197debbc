#!/usr/bin/env python3
"""Reference timing for the CPU embedding benchmark: the same model on ONNX Runtime, as a
user would run it instead of Kindred (fastembed and TEI's ONNX backend work this way).

Usage: ort_embed.py MODEL_DIR MODEL_ONNX TEXTS_JSON ROUNDS
The ONNX file comes from export_onnx.py. Loads the session once (not timed), with every graph
optimisation and as many intra-op threads as the machine has cores; then embeds all texts
ROUNDS times, each round timed on its own: the tokenizer's fast (Rust) implementation,
length-sorted batches of 32 padded to their longest text, truncation at the model's
max_seq_length, mean pooling over the attention mask and L2 normalisation. Prints one JSON
line with the seconds of each round.
"""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer


def embed(session, tokenizer, texts, max_length, batch_size):
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    vectors = [None] * len(texts)
    wanted = {i.name for i in session.get_inputs()}
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        encoded = tokenizer(
            [texts[i] for i in chosen],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="np",
        )
        feed = {k: v.astype(np.int64) for k, v in encoded.items() if k in wanted}
        hidden = session.run(None, feed)[0]
        mask = encoded["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        for i, vector in zip(chosen, pooled):
            vectors[i] = vector
    return np.stack(vectors)


def session_for(path):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = os.cpu_count() or 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    model_dir, onnx_path, texts_path, rounds = sys.argv[1:5]
    texts = json.load(open(texts_path))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    config = json.load(open(os.path.join(model_dir, "sentence_bert_config.json")))
    max_length = config.get("max_seq_length", 256)
    session = session_for(onnx_path)
    embed(session, tokenizer, texts[:64], max_length, 32)  # warm-up
    seconds = []
    for _ in range(int(rounds)):
        started = time.perf_counter()
        embed(session, tokenizer, texts, max_length, 32)
        seconds.append(time.perf_counter() - started)
    print(json.dumps({
        "seconds": seconds,
        "threads": session.get_session_options().intra_op_num_threads,
        "onnxruntime": ort.__version__,
        "batch_size": 32,
    }))


if __name__ == "__main__":
    main()
