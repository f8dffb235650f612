// Chinese first, English second: every visible text comes from messages/<lang>.json.
import { timeZone } from '../lib/zone.js';
import en from './en.json';
import zh from './zh-CN.json';

export const LANGS = { 'zh-CN': zh, en };
const KEY = 'gridsnap.lang';
const listeners = new Set();

function initial() {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && LANGS[saved]) return saved;
  } catch {
    /* storage blocked: default */
  }
  return 'zh-CN';
}

let lang = initial();

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (!LANGS[next]) return;
  lang = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = next;
  listeners.forEach((fn) => fn(next));
}

export function onLang(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The message `key` with {name} placeholders filled; the key itself if it is missing. */
export function t(key, params) {
  const s = LANGS[lang][key] ?? LANGS['zh-CN'][key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
}

/** A counted message: `key_one` for one where the language has it, else `key`; {n} filled. */
export function tn(key, n, params = {}) {
  const one = `${key}_one`;
  const k = n === 1 && (LANGS[lang][one] ?? LANGS['zh-CN'][one]) !== undefined ? one : key;
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
