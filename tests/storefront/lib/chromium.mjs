// Debian's Chromium, headless, quiet: no sandbox (root in CI), no GPU, and none of the
// background traffic (updates, sync, QUIC probes) that would reach for the network.

export const CHROMIUM_PATH = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
