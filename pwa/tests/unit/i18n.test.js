// The messages: Chinese is in the shell, English a chunk loaded when chosen (before the first
// render when it was chosen before, or when the user switches): until then every text is Chinese.
import { describe, expect, it } from 'vitest';
import zh from '../../src/i18n/zh-CN.json';
import en from '../../src/i18n/en.json';
import { getLang, langReady, onLang, setLang, t, tn } from '../../src/i18n/index.js';

describe('i18n', () => {
  it('speaks Chinese first, and English once its messages are loaded by setLang', async () => {
    await langReady();
    expect(getLang()).toBe('zh-CN');
    expect(t('common.loading')).toBe(zh['common.loading']);
    const heard = [];
    const off = onLang((lang) => heard.push([lang, t('common.loading')]));
    expect(await setLang('en')).toBe(true);
    off();
    // the listeners hear the switch with the English messages already there
    expect(heard).toEqual([['en', en['common.loading']]]);
    expect(getLang()).toBe('en');
    expect(tn('nav.badge', 3)).toBe(en['nav.badge'].replace('{n}', '3'));
    expect(await setLang('fr')).toBe(false);
    expect(getLang()).toBe('en');
    await setLang('zh-CN');
    expect(t('common.loading')).toBe(zh['common.loading']);
  });
});
