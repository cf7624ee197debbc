// Product images for a machine without access to Shopify's CDN: an SVG in the size asked for
// (the `width` parameter, as the CDN reads it), coloured by the image's path, so each product
// looks different in screenshots. Stands in for the CDN only; the URLs stay Shopify's.

import { createHash } from 'node:crypto';

const ASPECT = 1.15; // height / width of a typical product photograph in the yoga catalogue

export function placeholderImage(href) {
  const url = new URL(href, 'http://placeholder');
  const width = Math.min(Math.max(Number.parseInt(url.searchParams.get('width'), 10) || 800, 16), 4096);
  const height = Math.round(width * ASPECT);
  const hue = createHash('sha256').update(url.pathname).digest()[0] * (360 / 256);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 100 115">`
    + `<rect width="100" height="115" fill="hsl(${hue} 30% 90%)"/>`
    + `<rect x="34" y="14" width="32" height="86" rx="6" fill="hsl(${hue} 38% 52%)"/>`
    + `<ellipse cx="50" cy="14" rx="16" ry="5" fill="hsl(${hue} 38% 42%)"/>`
    + '</svg>';
  return { contentType: 'image/svg+xml', body: Buffer.from(svg) };
}
