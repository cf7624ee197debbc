#!/usr/bin/env python3
"""Writes embedder/tests/fixtures/minilm_reference.json: 20 real product texts from the
yoga-store catalogue and the vectors sentence-transformers gives them with all-MiniLM-L6-v2.

The Rust golden test embeds the same texts and requires cosine >= 0.9999 for each.
Needs sentence-transformers (with torch); run with the model folder the app uses:

    python3 scripts/make-embedding-fixture.py [MODEL_DIR]
"""
import glob
import html.parser
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, "..", "shared", "data", "catalogs", "yoga-stores", "2026-01-13")
OUT = os.path.join(ROOT, "embedder", "tests", "fixtures", "minilm_reference.json")


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def plain(body):
    parser = Text()
    parser.feed(body or "")
    return " ".join(" ".join(parser.parts).split())


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("KINDRED_CACHE_DIR", os.path.expanduser("~/.cache/kindred")), "models", "all-MiniLM-L6-v2")
    products = []
    for path in sorted(glob.glob(os.path.join(CATALOGUE, "*.json"))):
        if os.path.basename(path).startswith("_"):
            continue
        products.extend(json.load(open(path))["products"])
    products.sort(key=lambda p: p["id"])
    texts = [f"{p['title']} Type: {p.get('product_type') or 'none'}. Brand: {p.get('vendor')}. {plain(p.get('body_html'))}".strip()
             for p in products]
    model = SentenceTransformer(model_dir, device="cpu")
    lengths = [len(model.tokenizer(t)["input_ids"]) for t in texts]
    # Three texts past the 256-token limit test truncation; the rest spread over the catalogue.
    long_ones = [i for i in sorted(range(len(texts)), key=lambda i: -lengths[i])[:3]]
    step = len(texts) // 17
    chosen = long_ones + [i for i in range(0, len(texts), step) if i not in long_ones][:17]
    chosen_texts = [texts[i] for i in chosen] + [""]
    vectors = model.encode(chosen_texts, batch_size=32, normalize_embeddings=False, convert_to_numpy=True)
    with open(OUT, "w") as f:
        json.dump({
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "max_seq_length": model.max_seq_length,
            "token_lengths": [lengths[i] for i in chosen] + [2],
            "texts": chosen_texts,
            "embeddings": [[round(float(x), 7) for x in v] for v in vectors],
        }, f)
    print(f"wrote {len(chosen_texts)} texts to {OUT}; longest {max(lengths)} tokens")


if __name__ == "__main__":
    main()
