#!/usr/bin/env python3
"""Seeds the fuzz targets' corpora (scripts/fuzz.sh) from real data: the real catalogues'
products, one per input, Shopify's webhook samples under their topics, Online Retail's first
invoices as order, refund and event bodies, and real App Proxy queries and session tokens
built from them. The fuzzer starts from what real stores send and mutates outwards.

    scripts/fuzz-seeds.py <shared data folder> <corpus folder>
"""

import csv
import hashlib
import hmac
import json
import sys
import time
import urllib.parse
from base64 import urlsafe_b64encode
from pathlib import Path

# The secrets and shop the targets verify with (app/fuzz/fuzz_targets/).
SHOP = "fuzz-shop.myshopify.com"
SECRET = b"fuzz-app-secret"
CLIENT_ID = "fuzz-client-id"
NOW_SECS = 1_767_000_000
PER_CATALOGUE = 12


def write(corpus: Path, target: str, name: str, data: bytes) -> None:
    folder = corpus / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def products(data: Path):
    seen = set()
    for path in sorted((data / "catalogs").rglob("*.json")):
        # The yoga stores were captured on several days: one capture of each store is enough.
        if path.name.startswith("_") or path.stem in seen:
            continue
        seen.add(path.stem)
        document = json.loads(path.read_text())
        items = document.get("products", []) if isinstance(document, dict) else document
        for item in items[:PER_CATALOGUE]:
            yield f"{path.parent.name}-{path.stem}", item


def orders(data: Path, count: int = 60):
    invoices = {}
    with open(data / "interactions/online-retail/online_retail_first49999rows.csv") as f:
        for row in csv.DictReader(f):
            invoices.setdefault(row["InvoiceNo"], []).append(row)
            if len(invoices) > count:
                break
    for number, rows in list(invoices.items())[:count]:
        order_id = int("".join(c for c in number if c.isdigit()) or "1")
        created = rows[0]["InvoiceDate"].replace(" ", "T") + ":00Z"
        lines = [
            {
                "id": order_id * 100 + i,
                "product_id": int(hashlib.sha1(r["StockCode"].encode()).hexdigest()[:8], 16),
                "variant_id": None,
                "quantity": abs(int(r["Quantity"])),
                "price": r["UnitPrice"],
                "total_discount": "0.00",
                "title": r["Description"],
            }
            for i, r in enumerate(rows)
        ]
        yield {
            "id": order_id,
            "name": f"#{number}",
            "created_at": created,
            "updated_at": created,
            "currency": "GBP",
            "financial_status": "paid",
            "test": False,
            "checkout_token": hashlib.md5(number.encode()).hexdigest(),
            "customer": {"id": int(float(rows[0]["CustomerID"] or 0))} if rows[0]["CustomerID"] else None,
            "note_attributes": [{"name": "_kindred_client", "value": f"c-{number}"}],
            "line_items": lines,
            "refunds": [],
        }


def webhook_seeds(data: Path, corpus: Path) -> None:
    def put(topic: str, name: str, body) -> None:
        write(corpus, "webhook_bodies", name, f"{topic}\n{json.dumps(body)}".encode())

    for path in sorted((data / "webhooks").glob("*.json")):
        raw = path.read_text().replace("{shop}.myshopify.com", SHOP)
        topic = path.stem.replace("real_", "").split("_2")[0]
        topic = {"products_update_digilog_pk": "products_update"}.get(topic, topic)
        topic = topic.replace("customers_", "customers/").replace("products_", "products/")
        topic = topic.replace("app_", "app/").replace("shop_", "shop/")
        if "/" in topic:
            put(topic, path.stem, json.loads(raw))
    for i, (_, product) in enumerate(products(data)):
        if i % 8 == 0:
            put("products/update", f"product-{i}", product)
    for order in orders(data, 20):
        put("orders/create", f"order-{order['id']}", order)
        refund = {
            "id": order["id"] + 7,
            "order_id": order["id"],
            "created_at": order["created_at"],
            "refund_line_items": [{"line_item_id": order["line_items"][0]["id"], "quantity": 1}],
        }
        put("refunds/create", f"refund-{order['id']}", refund)
        put("orders/delete", f"delete-{order['id']}", {"id": order["id"]})


def event_seeds(data: Path, corpus: Path) -> None:
    for order in orders(data, 30):
        client = f"c-{order['id']}"
        first = order["line_items"][0]
        batch = [
            {"type": "product_viewed", "client_id": client, "product_id": first["product_id"]},
            {"type": "product_added_to_cart", "client_id": client,
             "line_items": [{"product_id": first["product_id"], "quantity": first["quantity"]}]},
            {"type": "search_submitted", "client_id": client, "query": first["title"].lower()},
            {"type": "recommendation_clicked", "client_id": client, "product_id": first["product_id"],
             "strategy": "similar", "placement": "product"},
            {"type": "checkout_completed", "client_id": client, "order_id": order["id"],
             "checkout_token": order["checkout_token"],
             "line_items": [{"product_id": l["product_id"], "quantity": l["quantity"]}
                            for l in order["line_items"]]},
        ]
        write(corpus, "events", f"batch-{order['id']}", json.dumps(batch).encode())


def proxy_seeds(corpus: Path) -> None:
    for i, customer in enumerate(["", "12345", "987654321"]):
        pairs = [("shop", SHOP), ("path_prefix", "/apps/kindred"), ("timestamp", str(NOW_SECS - i)),
                 ("logged_in_customer_id", customer), ("product_id", str(1000 + i))]
        message = "".join(f"{k}={v}" for k, v in sorted(pairs))
        signature = hmac.new(SECRET, message.encode(), hashlib.sha256).hexdigest()
        query = urllib.parse.urlencode(pairs + [("signature", signature)]).encode()
        write(corpus, "app_proxy_query", f"signed-{i}", b"\x00" + query)
        write(corpus, "app_proxy_query", f"resign-{i}", b"\x01" + query)


def token_seeds(corpus: Path) -> None:
    def b64(raw: bytes) -> str:
        return urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": CLIENT_ID,
              "sub": "42", "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": "seed", "sid": "s"}
    write(corpus, "session_token", "claims", json.dumps(claims).encode())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(SECRET, f"{header}.{body}".encode(), hashlib.sha256).digest())
    write(corpus, "session_token", "token", f"{header}.{body}.{signature}".encode())


def main() -> None:
    data, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    for source, product in products(data):
        write(corpus, "product_json", f"{source}-{product.get('id')}", json.dumps(product).encode())
    lines = [json.dumps(p) for _, p in products(data)]
    for start in range(0, len(lines), 5):
        write(corpus, "product_json_lines", f"lines-{start}", "\n".join(lines[start:start + 5]).encode())
    for path in sorted((data / "catalogs/csv").glob("*.csv")):
        rows = path.read_text().splitlines()
        for start in range(1, min(len(rows), 200), 20):
            chunk = [rows[0]] + rows[start:start + 20]
            write(corpus, "product_csv", f"{path.stem}-{start}", "\n".join(chunk).encode())
    webhook_seeds(data, corpus)
    event_seeds(data, corpus)
    proxy_seeds(corpus)
    token_seeds(corpus)
    for folder in sorted(corpus.iterdir()):
        print(f"seeded {folder.name}: {len(list(folder.iterdir()))} inputs")


if __name__ == "__main__":
    main()
