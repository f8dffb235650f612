// The worker's settings on this device.
import { kvGet, kvSet } from './db.js';
import { emit } from './events.js';

export const DEFAULTS = {
  tileUrl: '', // none: the grid cells alone make the map readable
  tileAttribution: '',
  accuracyWarnM: 30,
};

export async function getSettings() {
  return { ...DEFAULTS, ...(await kvGet('settings', {})) };
}

export async function saveSettings(changes) {
  const next = { ...(await getSettings()), ...changes };
  await kvSet('settings', next);
  emit('settings');
  return next;
}

/** Category codes the worker used last, most recent first. */
export async function recentCategories() {
  return kvGet('recentCategories', []);
}

export async function noteCategoryUsed(code) {
  const list = (await recentCategories()).filter((c) => c !== code);
  list.unshift(code);
  await kvSet('recentCategories', list.slice(0, 6));
}
