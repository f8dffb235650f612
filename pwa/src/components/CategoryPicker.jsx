// Two levels (部件/事件 → major class → category), searchable, recently used first.
import { useMemo, useState } from 'preact/hooks';
import { getLang, nameOf, t } from '../i18n/index.js';

function majorName(c) {
  return getLang() === 'en' && c.major_name_en ? c.major_name_en : c.major_name;
}

function matches(c, q) {
  const hay = [c.code, c.name, c.name_en, c.major_name, c.major_name_en].join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

export function CategoryPicker({ categories, recent, onPick, onClose }) {
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState('event');
  const [open, setOpen] = useState(null);
  const q = query.trim().toLowerCase();
  const byCode = useMemo(() => new Map(categories.map((c) => [c.code, c])), [categories]);
  const majors = useMemo(() => {
    const out = new Map();
    for (const c of categories) {
      if (c.kind !== kind) continue;
      const key = `${c.kind}:${c.major_code}`;
      if (!out.has(key)) out.set(key, { key, name: majorName(c), items: [] });
      out.get(key).items.push(c);
    }
    return [...out.values()];
  }, [categories, kind, getLang()]);
  const recentCats = recent.map((code) => byCode.get(code)).filter(Boolean);

  const item = (c) => (
    <li key={c.code}>
      <button type="button" class="choice" onClick={() => onPick(c)} data-code={c.code}>
        <span>{nameOf(c)}</span>
        <small>{majorName(c)} · {c.code}</small>
      </button>
    </li>
  );

  return (
    <div class="sheet" role="dialog" aria-modal="true" aria-labelledby="cat-title">
      <div class="sheet-head">
        <h2 id="cat-title">{t('category.title')}</h2>
        <button type="button" class="close" onClick={onClose} aria-label={t('common.close')}>✕</button>
      </div>
      <label for="cat-search" class="sr-only">{t('category.search')}</label>
      <input id="cat-search" type="search" placeholder={t('category.search')} value={query}
        onInput={(e) => setQuery(e.currentTarget.value)} autocomplete="off" />
      {categories.length === 0 && <p class="notice">{t('category.none_cached')}</p>}
      {q ? (
        <ul class="choices" aria-label={t('category.results')}>
          {categories.filter((c) => matches(c, q)).slice(0, 50).map(item)}
        </ul>
      ) : (
        <>
          {recentCats.length > 0 && (
            <section aria-labelledby="cat-recent">
              <h3 id="cat-recent">{t('category.recent')}</h3>
              <ul class="choices">{recentCats.map(item)}</ul>
            </section>
          )}
          <div class="segmented" role="tablist" aria-label={t('category.kind')}>
            {['event', 'component'].map((k) => (
              <button type="button" role="tab" aria-selected={kind === k}
                class={kind === k ? 'on' : ''} onClick={() => { setKind(k); setOpen(null); }}>
                {t(`category.kind_${k}`)}
              </button>
            ))}
          </div>
          <ul class="majors">
            {majors.map((m) => (
              <li key={m.key}>
                <button type="button" class="major" aria-expanded={open === m.key}
                  onClick={() => setOpen(open === m.key ? null : m.key)}>
                  {m.name} <small>({m.items.length})</small>
                </button>
                {open === m.key && <ul class="choices">{m.items.map(item)}</ul>}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
