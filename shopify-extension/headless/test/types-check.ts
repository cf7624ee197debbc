// Compiled (never run) by `npm test`: the package's types as a consumer sees them, through
// its exports. Each `@ts-expect-error` is a mistake the types must catch.
import { createElement } from 'react';
import { createKindredClient, KindredError, type Recommendation } from '@kindred/headless';
import { KindredShelf } from '@kindred/headless/react';
import type { components } from '@kindred/headless/schema';

const kindred = createKindredClient({ baseUrl: 'https://kindred.example.com', storefrontKey: 'kdr_sf_x' });

export async function usage(signal: AbortSignal) {
  const shelf = await kindred.recommendations({ strategy: 'for_you', fallback: 'trending', client_id: 'b', limit: 4, signal });
  const first: Recommendation = shelf.recommendations[0];
  const id: string = first.id;
  const reason: string = first.reason;
  const same: components['schemas']['RecommendationView'] = first;
  const holdout: boolean | undefined = shelf.experiment?.holdout;

  const similar = await kindred.similar(id, { limit: 5, include_unavailable: true, tags: ['cork'] });
  const cart = await kindred.cart([id, 'gid://shopify/Product/1']);
  const found = await kindred.search('cork block', { client_id: 'b' });
  const suggested = await kindred.suggest('cork bl');
  const queries: string[] = suggested.queries;
  const personalised: boolean = found.personalised;
  const tracked = await kindred.track([{ type: 'recommendation_viewed', client_id: 'b', product_id: id, strategy: shelf.strategy, placement: 'product' }]);
  const accepted: number = tracked.accepted;

  // @ts-expect-error: not a strategy
  await kindred.recommendations({ strategy: 'best_sellers' });
  // @ts-expect-error: the server's parameter is `product_id`
  await kindred.recommendations({ strategy: 'similar', productId: id });
  // @ts-expect-error: ids are strings (they exceed 2^53)
  const asNumber: number = first.id;
  // @ts-expect-error: an event needs its `client_id`
  await kindred.track([{ type: 'product_viewed', product_id: id }]);
  // @ts-expect-error: `strategy` is required
  await kindred.recommendations({ product_id: id });

  try {
    await kindred.search('mat');
  } catch (error) {
    if (error instanceof KindredError) {
      const retry: number | null = error.retryAfter;
      const code: string = error.code;
      void [retry, code];
    }
  }
  void [reason, same, holdout, similar, cart, queries, personalised, accepted, asNumber];
}

export const element = createElement(KindredShelf, {
  client: kindred,
  strategy: 'similar',
  productId: 'gid://shopify/Product/4357742755898',
  placement: 'product',
  limit: 4,
  currency: 'USD',
  heading: 'You may also like',
  renderLink: ({ href, children, onClick }) => createElement('a', { href, onClick }, children),
});
