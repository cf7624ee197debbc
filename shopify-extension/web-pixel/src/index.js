// The pixel as Shopify runs it. Everything it does is in pixel.js, which needs nothing from
// Shopify's package and so runs under the tests as it is.
import { register } from '@shopify/web-pixels-extension';

import { kindredPixel } from './pixel.js';

register(kindredPixel);
