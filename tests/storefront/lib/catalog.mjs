// Reads Shopify storefront catalogues (`products.json`: `{"products": [...]}`), a single
// product (storefront or Kindred JSON), or a folder of such files, into the product shape
// Kindred answers with.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The real yoga-store capture in the shared data folder beside the repository. */
export const DEFAULT_CATALOG = path.resolve(here, '../../../../shared/data/catalogs/yoga-stores/2026-01-13');

// Shopify ids exceed 2^53, where JSON.parse would round them: keep every id as its digits.
const parseWithTextIds = (text) => JSON.parse(text.replace(/("(?:id|product_id)"\s*:\s*)(\d+)/g, '$1"$2"'));

const firstAvailable = (variants) => variants.find((variant) => variant.available) ?? variants[0];

// Kindred's own product JSON (`GET /api/v1/products/{id}`) has its price and image at the top.
const isKindredShape = (raw) => !Array.isArray(raw.variants) && ('image_url' in raw || 'price' in raw);

/** One product, storefront or Kindred JSON, as the fields Kindred's recommendations carry. */
export function toKindredProduct(raw) {
  if (isKindredShape(raw)) {
    return {
      ...raw,
      id: String(raw.id),
      vendor: raw.vendor ?? '',
      product_type: raw.product_type ?? '',
      tags: raw.tags ?? [],
      available: raw.available ?? true,
      price: raw.price ?? null,
      compare_at_price: raw.compare_at_price ?? null,
      image_url: raw.image_url ?? null,
      url: raw.url ?? `/products/${raw.handle}`,
    };
  }
  const variants = raw.variants ?? [];
  const variant = firstAvailable(variants) ?? {};
  const price = variant.price ?? null;
  const compareAt = variant.compare_at_price ?? null;
  const image = raw.images?.[0] ?? variant.featured_image ?? null;
  return {
    id: String(raw.id),
    handle: raw.handle,
    title: raw.title,
    vendor: raw.vendor ?? '',
    product_type: raw.product_type ?? '',
    tags: Array.isArray(raw.tags) ? raw.tags : String(raw.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    status: 'active',
    available: variants.some((v) => v.available),
    price,
    compare_at_price: compareAt !== null && Number(compareAt) > Number(price) ? compareAt : null,
    image_url: image?.src ?? null,
    image_width: image?.width ?? null,
    image_height: image?.height ?? null,
    url: `/products/${raw.handle}`,
    created_at: raw.created_at ?? null,
    variant_id: variant.id != null ? String(variant.id) : null,
    variant_count: variants.length,
    description: raw.body_html ?? '',
  };
}

const productsOf = (document) => {
  if (Array.isArray(document?.products)) return document.products;
  if (document?.product) return [document.product];
  if (document?.id && document?.title) return [document];
  return [];
};

/**
 * Every product in `source` (a file or a folder, read in name order, skipping names that
 * begin with `_` as the capture's metadata does), first occurrence of an id kept.
 */
export function loadCatalog(source = DEFAULT_CATALOG) {
  const files = fs.statSync(source).isDirectory()
    ? fs.readdirSync(source).filter((name) => name.endsWith('.json') && !name.startsWith('_')).sort()
      .map((name) => path.join(source, name))
    : [source];
  const products = new Map();
  for (const file of files) {
    for (const raw of productsOf(parseWithTextIds(fs.readFileSync(file, 'utf8')))) {
      const product = toKindredProduct(raw);
      if (!products.has(product.id)) products.set(product.id, product);
    }
  }
  return [...products.values()];
}
