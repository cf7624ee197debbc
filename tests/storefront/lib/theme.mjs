// Renders an Online Store 2.0 page the way Shopify's storefront does, closely enough to run
// the real theme app extension in a browser: JSON templates of sections, `{% render block %}`
// for app blocks, app embeds at the end of <body>, and the schema's `javascript` and
// `stylesheet` assets injected once per page. Shopify-only filters and tags have small
// stand-ins; unknown filters fail the render, so a filter the extension starts using cannot
// slip through unnoticed.

import fs from 'node:fs';
import path from 'node:path';

import { Drop, Liquid, RenderTag, Tag } from 'liquidjs';

import { moneyFormat } from './markets.mjs';

const SCHEMA = /{%-?\s*schema\s*-?%}([\s\S]*?){%-?\s*endschema\s*-?%}/;
// An app block's type in a template: shopify://apps/{app}/blocks/{block}/{uuid}
const APP_BLOCK_TYPE = /^shopify:\/\/apps\/[^/]+\/blocks\/([\w-]+)\/[\w-]+$/;

// Where a render keeps its page (objects and collected assets) for the tags that need it.
const PAGE = '__kindred_page';

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

const lookup = (translations, key) => key.split('.').reduce((node, part) => node?.[part], translations);

/** The `{% schema %}` JSON of a Liquid file. */
export function readSchema(file) {
  const match = SCHEMA.exec(fs.readFileSync(file, 'utf8'));
  return match ? JSON.parse(match[1]) : {};
}

const defaultSettings = (schema) => Object.fromEntries(
  (schema.settings ?? []).filter((setting) => setting.id).map((setting) => [setting.id, setting.default ?? null]),
);

/** Shopify's product object, as much of it as the theme and the extension read. */
export function productDrop(product) {
  const cents = (amount) => (amount == null ? null : Math.round(Number.parseFloat(amount) * 100));
  const image = product.image_url
    ? { src: product.image_url, width: product.image_width ?? 1000, height: product.image_height ?? 1000, alt: product.title }
    : null;
  return {
    id: product.id,
    title: product.title,
    handle: product.handle,
    vendor: product.vendor,
    type: product.product_type,
    tags: product.tags,
    url: product.url,
    available: product.available,
    price: cents(product.price),
    compare_at_price: cents(product.compare_at_price),
    featured_image: image,
    description: product.description ?? '',
    selected_or_first_available_variant: { id: product.variant_id },
    has_only_default_variant: product.variant_count === 1,
  };
}

/**
 * Shopify's `all_products`: a product by handle, as the page's market shows it, and nothing
 * past the 20th distinct handle of a page, as Shopify limits it.
 */
export class AllProducts extends Drop {
  constructor(lookup) {
    super();
    this.lookup = lookup;
    this.asked = new Set();
  }

  liquidMethodMissing(handle) {
    this.asked.add(handle);
    if (this.asked.size > 20) return undefined;
    const product = this.lookup(String(handle));
    return product ? productDrop(product) : undefined;
  }
}

export function createThemeRenderer({ themeDir, extensionDir }) {
  // The extension's translations, by the page's locale (`request.locale.iso_code`).
  const localesDir = path.join(extensionDir, 'locales');
  const fallback = readJson(path.join(localesDir, 'en.default.json'));
  const translationsByLocale = new Map();
  const translationsFor = (locale) => {
    if (!translationsByLocale.has(locale)) {
      const file = path.join(localesDir, `${locale}.json`);
      translationsByLocale.set(locale, fs.existsSync(file) ? readJson(file) : fallback);
    }
    return translationsByLocale.get(locale);
  };
  const liquid = new Liquid({
    root: [themeDir],
    // An app block's `{% render %}` finds the extension's snippets; the theme's own, its own.
    partials: [path.join(themeDir, 'snippets'), path.join(extensionDir, 'snippets')],
    extname: '.liquid',
    strictFilters: true,
    jsTruthy: false,
  });

  const assetUrl = (name) => {
    for (const [dir, prefix] of [[themeDir, '/cdn/theme/assets/'], [extensionDir, '/cdn/extension/assets/']]) {
      if (fs.existsSync(path.join(dir, 'assets', name))) return prefix + encodeURIComponent(name);
    }
    throw new Error(`asset_url: no asset ${name}`);
  };
  const keywordArgs = (args) => Object.fromEntries(args.filter(Array.isArray));

  liquid.registerFilter('asset_url', assetUrl);
  // `preload: true` makes Shopify send a Link header besides; the tag itself is the same.
  liquid.registerFilter('stylesheet_tag', (url) => `<link href="${url}" rel="stylesheet" type="text/css" media="all">`);
  liquid.registerFilter('script_tag', (url) => `<script src="${url}" type="text/javascript"></script>`);
  liquid.registerFilter('image_url', (image, ...args) => {
    const { width, height } = keywordArgs(args);
    const src = typeof image === 'string' ? image : image?.src;
    if (!src) return '';
    const url = new URL(src, 'http://relative.invalid');
    if (width) url.searchParams.set('width', width);
    if (height) url.searchParams.set('height', height);
    return url.host === 'relative.invalid' ? url.pathname + url.search : url.href;
  });
  // Money in the cart's currency, written as the page's language writes it.
  const pageLocale = (context) => context.getSync(['request', 'locale', 'iso_code']) ?? 'en';
  liquid.registerFilter('money', function money(cents) {
    if (cents == null) return '';
    const currency = this.context.getSync(['cart', 'currency', 'iso_code']) ?? 'USD';
    return moneyFormat({ locale: pageLocale(this.context), currency })(cents / 100);
  });
  liquid.registerFilter('t', function t(key, ...args) {
    const locale = pageLocale(this.context);
    const text = lookup(translationsFor(locale), key) ?? lookup(fallback, key);
    if (typeof text !== 'string') return `translation missing: ${locale}.${key}`;
    const values = keywordArgs(args);
    return text.replace(/{{\s*(\w+)\s*}}/g, (_, name) => values[name] ?? '');
  });

  // The schema is read by the theme editor, never rendered.
  liquid.registerTag('schema', class extends Tag {
    constructor(token, remainTokens, engine) {
      super(token, remainTokens, engine);
      while (remainTokens.length) {
        const next = remainTokens.shift();
        if (next.name === 'endschema') return;
      }
      throw new Error('{% schema %} is not closed');
    }

    * render() {}
  });

  // `{% layout none %}`: the page has no layout around it (the only form the extension and
  // Kindred's proxy answers use).
  liquid.registerTag('layout', class extends Tag {
    constructor(token, remainTokens, engine) {
      super(token, remainTokens, engine);
      if (token.args.trim() !== 'none') throw new Error(`{% layout ${token.args.trim()} %} is not supported here`);
    }

    * render(ctx) {
      const page = ctx.getSync([PAGE]);
      if (page) page.layout = 'none';
    }
  });

  // Static sections of the layout: {% section 'header' %}.
  liquid.registerTag('section', class extends Tag {
    constructor(token, remainTokens, engine) {
      super(token, remainTokens, engine);
      this.sectionName = token.args.trim().replace(/^['"]|['"]$/g, '');
    }

    * render(ctx, emitter) {
      const section = { id: this.sectionName, settings: {}, blocks: [] };
      const page = ctx.getSync([PAGE]);
      emitter.write(yield renderSection(this.sectionName, section, { ...page.objects, [PAGE]: page }));
    }
  });

  // `{% render block %}` renders an app block from the extension, wrapped as Shopify wraps it;
  // every other `render` is Liquid's own.
  liquid.registerTag('render', class extends RenderTag {
    constructor(token, remainTokens, engine, parser) {
      super(token, remainTokens, engine, parser);
      this.appBlock = token.args.trim() === 'block';
    }

    * render(ctx, emitter) {
      if (!this.appBlock) {
        yield* super.render(ctx, emitter);
        return;
      }
      const block = ctx.getSync(['block']);
      const html = yield renderExtensionBlock(block, ctx.getSync([PAGE]));
      emitter.write(`<div id="shopify-block-${block.id}" class="shopify-app-block">${html}</div>`);
    }
  });

  // Shopify's global objects (cart, request, ...) reach every snippet a page renders, as liquidjs's
// `globals` do; a render's own scope stays isolated.
// App blocks see the page's global objects (product, request, shop...) and their `block`,
  // nothing of the section around them.
  const renderExtensionBlock = async (block, page) => {
    const file = path.join(extensionDir, 'blocks', `${block.handle}.liquid`);
    const schema = readSchema(file);
    for (const key of ['stylesheet', 'javascript']) {
      if (schema[key]) page.assets[key].add(assetUrl(schema[key]));
    }
    return liquid.parseAndRender(fs.readFileSync(file, 'utf8'), { ...page.objects, block }, { globals: page.objects });
  };

  const appBlock = (id, entry, objects, overrides = {}) => {
    const handle = APP_BLOCK_TYPE.exec(entry.type)?.[1];
    if (!handle) throw new Error(`not an app block type: ${entry.type}`);
    const schema = readSchema(path.join(extensionDir, 'blocks', `${handle}.liquid`));
    const settings = { ...defaultSettings(schema), ...entry.settings, ...overrides };
    for (const setting of schema.settings ?? []) {
      // An autofilled product setting on a product page is that page's product.
      if (setting.type === 'product' && setting.autofill && objects.product
        && (settings[setting.id] == null || settings[setting.id] === '{{product}}')) {
        settings[setting.id] = objects.product;
      }
    }
    return { id, type: '@app', handle, settings, shopify_attributes: '' };
  };

  const renderSection = async (type, section, scope) => {
    const file = path.join(themeDir, 'sections', `${type}.liquid`);
    const html = await liquid.parseAndRender(fs.readFileSync(file, 'utf8'), { ...scope, section }, { globals: scope });
    return `<div id="shopify-section-${section.id}" class="shopify-section">${html}</div>`;
  };

  /**
   * The page of `template` (a JSON template name) with the global `objects` (product, request...).
   * `withApp: false` renders the same page with the app's blocks and embeds taken out;
   * `blockSettings` overrides the settings of the app blocks in the template; `head` is what
   * Shopify's own scripts add to `content_for_header`.
   */
  const renderPage = async (template, objects, { withApp = true, blockSettings = {}, head = '' } = {}) => {
    const page = { objects, assets: { stylesheet: new Set(), javascript: new Set() } };
    const scope = { ...objects, [PAGE]: page };
    const { sections, order } = readJson(path.join(themeDir, 'templates', `${template}.json`));
    let contentForLayout = '';
    for (const key of order) {
      const entry = sections[key];
      const blocks = (entry.block_order ?? Object.keys(entry.blocks ?? {}))
        .map((id) => [id, entry.blocks[id]])
        .filter(([, block]) => !block.disabled && (withApp || !APP_BLOCK_TYPE.test(block.type)))
        .map(([id, block]) => (APP_BLOCK_TYPE.test(block.type)
          ? appBlock(id, block, objects, blockSettings)
          : { id, type: block.type, settings: block.settings ?? {}, shopify_attributes: '' }));
      const section = { id: `template--${template}__${key}`, settings: entry.settings ?? {}, blocks };
      contentForLayout += await renderSection(entry.type, section, scope);
    }

    let embeds = '';
    if (withApp) {
      const { current } = readJson(path.join(themeDir, 'config/settings_data.json'));
      for (const [id, entry] of Object.entries(current.blocks ?? {})) {
        if (entry.disabled || !APP_BLOCK_TYPE.test(entry.type)) continue;
        embeds += await renderExtensionBlock(appBlock(id, entry, objects), page);
      }
    }

    const stylesheets = [...page.assets.stylesheet]
      .map((url) => `<link href="${url}" rel="stylesheet" type="text/css" media="all">`).join('');
    const scripts = [...page.assets.javascript].map((url) => `<script src="${url}" defer></script>`).join('');
    const html = await liquid.renderFile('layout/theme', {
      ...scope,
      content_for_header: head + stylesheets,
      content_for_layout: contentForLayout,
    }, { globals: scope });
    return html.replace('</body>', `${embeds}${scripts}</body>`);
  };

  /**
   * An app proxy's `application/liquid` answer rendered as Shopify renders it: in the page
   * context of the shopper's storefront (`objects`), inside the theme's layout unless it says
   * `{% layout none %}`.
   */
  const renderProxyAnswer = async (text, objects) => {
    const page = { objects, assets: { stylesheet: new Set(), javascript: new Set() } };
    const scope = { ...objects, [PAGE]: page };
    const html = await liquid.parseAndRender(text, scope, { globals: scope });
    if (page.layout === 'none') return html;
    return liquid.renderFile('layout/theme', { ...scope, content_for_header: '', content_for_layout: html }, { globals: scope });
  };

  /**
   * One section of the theme by its file name, as the Section Rendering API answers it
   * (`?section_id=`, `sections` of the cart's Ajax API): its wrapper and markup alone.
   */
  const renderSectionById = (name, objects) => {
    const page = { objects, assets: { stylesheet: new Set(), javascript: new Set() } };
    return renderSection(name, { id: name, settings: {}, blocks: [] }, { ...objects, [PAGE]: page });
  };

  return { renderPage, renderProxyAnswer, renderSectionById };
}
