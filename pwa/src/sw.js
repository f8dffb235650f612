// The service worker: the precached app shell (the app opens with no network after the first
// visit), visited base-map tiles, and Background Sync of the outbox where the browser has it.
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import { clientsClaim } from 'workbox-core';
import { ExpirationPlugin } from 'workbox-expiration';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { BASEMAP_CACHE } from './lib/basemap.js';
import { runSync } from './lib/sync.js';

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

// every in-app address opens the shell; the API is never answered from a cache
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), {
  denylist: [/^\/api\//],
}));

// base-map tiles: those of the scope the worker saved for offline use first (BASEMAP_CACHE,
// written by the page), then the ones seen once. Only full CORS answers are kept: an opaque one
// counts megabytes against the quota that also holds the outbox, and the browser may clear a
// full origin's storage.
const visitedTiles = new CacheFirst({
  cacheName: 'gridsnap-tiles',
  plugins: [
    new CacheableResponsePlugin({ statuses: [200] }),
    new ExpirationPlugin({ maxEntries: 3000, maxAgeSeconds: 30 * 86400, purgeOnQuotaError: true }),
  ],
});
registerRoute(
  ({ request, url }) => request.destination === 'image' && !url.pathname.startsWith('/api/') &&
    url.origin !== self.location.origin,
  async (options) => {
    const saved = await (await caches.open(BASEMAP_CACHE)).match(options.request.url);
    return saved || visitedTiles.handle(options);
  },
);

self.addEventListener('install', () => {
  // the first install takes over at once; an update waits until the page agrees (a reload)
  if (!self.registration.active) self.skipWaiting();
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

clientsClaim();

self.addEventListener('sync', (event) => {
  if (event.tag !== 'gridsnap-outbox') return;
  // the browser fires this when it believes the network is back: forget the back-off
  event.waitUntil(runSync({ reset: true, reason: 'background' }).then((r) => {
    // a rejected promise asks the browser to fire the sync again later
    if (r.outcome === 'offline') throw new Error('gridsnap: offline, try again later');
  }));
});
