// Registers the service worker (workbox-window) and asks for Background Sync after a save.
import { Workbox } from 'workbox-window';

let wb = null;

/** Registers /sw.js; onUpdate(apply) is called when a new version waits. */
export function registerServiceWorker(onUpdate) {
  if (!('serviceWorker' in navigator)) return;
  wb = new Workbox('/sw.js');
  wb.addEventListener('waiting', () => onUpdate(() => {
    wb.addEventListener('controlling', () => window.location.reload());
    wb.messageSkipWaiting();
  }));
  wb.register().catch((err) => console.warn('gridsnap: no service worker', err));
}

/** Background Sync where the browser has it; never relied on (the page syncs by itself too). */
export async function requestBackgroundSync() {
  try {
    const reg = await navigator.serviceWorker?.ready;
    await reg?.sync?.register('gridsnap-outbox');
  } catch {
    /* not supported or not permitted: the page's own triggers remain */
  }
}
