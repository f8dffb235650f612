// Chinese first, English second: every visible text comes from messages/<lang>.json. Chinese is
// in the shell; English is a chunk of its own (precached like the others), loaded before the
// first render when it was chosen, and when the user switches to it.
import { timeZone } from '../lib/zone.js';
import zh from './zh-CN.json';

const MESSAGES = { 'zh-CN': zh };
const LOADERS = { en: () => import('./en.json') };
const KNOWN = new Set(['zh-CN', ...Object.keys(LOADERS)]);
const KEY = 'gridsnap.lang';
const listeners = new Set();

function initial() {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && KNOWN.has(saved)) return saved;
  } catch {
    /* storage blocked: default */
  }
  return 'zh-CN';
}

let lang = initial();

/** The messages of `code` in memory (imported once); resolves when they are. */
async function load(code) {
  if (!MESSAGES[code]) MESSAGES[code] = (await LOADERS[code]()).default;
}

/** Resolves when the chosen language's messages are in memory (before the first render). */
export async function langReady() {
  try {
    await load(lang);
  } catch {
    lang = 'zh-CN'; // its chunk could not be fetched: Chinese until it can
  }
}

export function getLang() {
  return lang;
}

/** Switches the UI's language once its messages are loaded (at once when they are); false when
 * they could not be (offline before the service worker had them): the language stays. */
export async function setLang(next) {
  if (!KNOWN.has(next)) return false;
  try {
    await load(next);
  } catch {
    return false;
  }
  lang = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    /* ignore */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
  listeners.forEach((fn) => fn(next));
  return true;
}

export function onLang(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The message `key` with {name} placeholders filled; the key itself if it is missing. */
export function t(key, params) {
  const s = MESSAGES[lang]?.[key] ?? zh[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
}

/** A counted message: `key_one` for one where the language has it, else `key`; {n} filled. */
export function tn(key, n, params = {}) {
  const one = `${key}_one`;
  const k = n === 1 && (MESSAGES[lang]?.[one] ?? zh[one]) !== undefined ? one : key;
  return t(k, { ...params, n });
}

/** A server-side name in the current language: name_en when English and present. */
export function nameOf(obj) {
  if (!obj) return '';
  return (lang === 'en' && obj.name_en) ? obj.name_en : obj.name;
}

/** A case status in words (status.<name>); the raw status when the app does not know it yet. */
export function statusText(status) {
  const key = `status.${status}`;
  const s = t(key);
  return s === key ? status : s;
}

/** A clock time with seconds (the next retry), in the deployment's zone. */
export function formatClock(value) {
  if (!value) return '';
  const d = new Date(value);
  try {
    return d.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'zh-CN', {
      timeZone: timeZone(), hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
    });
  } catch {
    return d.toISOString();
  }
}

/** A date/time for people, in the deployment's zone (lib/zone.js: the server's, Asia/Shanghai until known). */
export function formatTime(value) {
  if (!value) return '';
  const d = typeof value === 'number' ? new Date(value) : new Date(value);
  try {
    return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {
      timeZone: timeZone(), month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    });
  } catch {
    return d.toISOString();
  }
}
