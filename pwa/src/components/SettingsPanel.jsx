// The settings, shared by the phone's screens and the command centre: who is logged in, language,
// the base map, the accuracy warning, storage and logging out.
import { useEffect, useState } from 'preact/hooks';
import { getLang, setLang, t, tn } from '../i18n/index.js';
import { basemapTrouble } from './leafletBase.js';
import { basemapOf, deleteOfflineBasemap, offlineBasemap, saveOfflineBasemap } from '../lib/basemap.js';
import { kvSet } from '../lib/db.js';
import { pending } from '../lib/outbox.js';
import { logout } from '../lib/session.js';
import { saveSettings } from '../lib/settings.js';
import { syncSoon } from '../syncing.js';
import { reload, toast, useStore } from '../store.js';

export function SettingsPanel() {
  const s = useStore();
  const u = s.session.user;
  const [tileUrl, setTileUrl] = useState(s.settings.tileUrl || '');
  const [warnM, setWarnM] = useState(String(s.settings.accuracyWarnM));
  const [storage, setStorage] = useState(null);
  const [offline, setOffline] = useState(null);
  const [saving, setSaving] = useState(null);
  const bm = basemapOf(s.server, s.settings, getLang());

  useEffect(() => {
    offlineBasemap().then(setOffline);
  }, []);

  async function saveBasemap() {
    setSaving({ done: 0, total: 0 });
    try {
      // around where the worker works: their tasks and reports, newest first
      const spots = [...s.tasks, ...s.reports].map((r) => r.location).filter((l) => l?.lon != null);
      const saved = await saveOfflineBasemap(bm, s.cells, (done, total) => setSaving({ done, total }),
        spots);
      if (!saved.tiles) {
        // nothing came: say why, and keep no "saved" record of nothing
        const why = basemapTrouble(bm, s.server);
        toast(t('settings.basemap_nothing', { why: t(why.key, { origin: why.origin }) }), 'error');
        return;
      }
      setOffline(saved);
      toast(saved.failed ? t('settings.basemap_partly', { failed: saved.failed, tiles: saved.tiles })
        : t('settings.basemap_done'), saved.failed ? 'error' : 'ok');
    } finally {
      setSaving(null);
    }
  }

  async function dropBasemap() {
    await deleteOfflineBasemap();
    setOffline(null);
  }

  useEffect(() => {
    (async () => {
      const est = await navigator.storage?.estimate?.();
      const persisted = await navigator.storage?.persisted?.();
      if (est) setStorage({ used: est.usage, quota: est.quota, persisted });
    })();
  }, []);

  async function save(e) {
    e.preventDefault();
    const url = tileUrl.trim();
    if (url && !/^https?:\/\/.+\{z\}.+\{x\}.+\{y\}/.test(url)) {
      toast(t('settings.tile_url_invalid'), 'error');
      return;
    }
    const m = Math.max(5, Math.min(500, Number(warnM) || 30));
    await saveSettings({ tileUrl: url, accuracyWarnM: m });
    await reload('settings');
    toast(t('settings.saved'), 'ok');
  }

  async function refreshData() {
    await kvSet('pullMarks', {});
    await syncSoon({ force: true, reason: 'refresh' });
    await reload();
  }

  async function doLogout() {
    const waiting = pending(s.items, u.username).length;
    const msg = waiting ? tn('settings.logout_pending', waiting) : t('settings.logout_confirm');
    if (!window.confirm(msg)) return;
    await logout();
    await reload('session');
  }

  const mb = (n) => (n / 1024 / 1024).toFixed(1);
  return (
    <div class="settings">
      <section class="card">
        <h2>{t('settings.account')}</h2>
        <p><strong>{u.display_name || u.username}</strong> ({u.username})</p>
        <p class="small muted">{t(`role.${u.role}`)} · {t('settings.scopes')}: {(u.scopes || []).join(', ') || '—'}</p>
        <button type="button" class="secondary" onClick={doLogout} data-testid="logout">{t('settings.logout')}</button>
      </section>
      <section class="card">
        <h2 id="lang-title">{t('settings.language')}</h2>
        <div class="segmented" role="radiogroup" aria-labelledby="lang-title">
          {[['zh-CN', '中文'], ['en', 'English']].map(([code, label]) => (
            <button type="button" role="radio" aria-checked={getLang() === code}
              class={getLang() === code ? 'on' : ''} data-testid={`lang-${code}`}
              onClick={() => setLang(code)}>{label}</button>
          ))}
        </div>
      </section>
      <form class="card stack" onSubmit={save}>
        <h2>{t('settings.map_and_location')}</h2>
        <label for="tile-url">{t('settings.tile_url')}</label>
        <input id="tile-url" type="url" inputMode="url" placeholder="https://…/{z}/{x}/{y}.png"
          value={tileUrl} onInput={(e) => setTileUrl(e.currentTarget.value)} aria-describedby="tile-help" />
        <p id="tile-help" class="small muted">{t('settings.tile_url_help')}</p>
        <label for="warn-m">{t('settings.accuracy_warn')}</label>
        <input id="warn-m" type="number" inputMode="numeric" min="5" max="500" value={warnM}
          onInput={(e) => setWarnM(e.currentTarget.value)} />
        <button type="submit" class="primary">{t('settings.save')}</button>
      </form>
      <section class="card stack" data-testid="basemap-offline">
        <h2>{t('settings.basemap_offline')}</h2>
        {!bm ? <p class="small muted">{t('settings.basemap_none')}</p> : (
          <>
            <p class="small muted">{t('settings.basemap_help')}</p>
            {offline?.tiles ? (
              <p class="small" data-testid="basemap-saved">{t('settings.basemap_saved',
                { tiles: offline.tiles, mb: mb(offline.bytes), when: new Date(offline.savedAt).toLocaleDateString(getLang()) })}</p>
            ) : null}
            {saving ? (
              <p class="small" role="status">{t('settings.basemap_saving', saving)}</p>
            ) : (
              <div class="row">
                <button type="button" class="secondary" onClick={saveBasemap}
                  disabled={!s.cells.length} data-testid="basemap-save">{t('settings.basemap_save')}</button>
                {offline?.tiles ? <button type="button" class="secondary" onClick={dropBasemap}
                  data-testid="basemap-delete">{t('settings.basemap_delete')}</button> : null}
              </div>
            )}
          </>
        )}
      </section>
      <section class="card">
        <h2>{t('settings.offline_data')}</h2>
        <p class="small">{t('settings.cached', { cells: s.cells.length, categories: s.categories.length, tasks: s.tasks.length })}</p>
        {storage && (
          <p class="small muted">
            {t('settings.storage', { used: mb(storage.used), quota: mb(storage.quota) })}
            {' · '}{storage.persisted ? t('settings.persisted') : t('settings.not_persisted')}
          </p>
        )}
        <button type="button" class="secondary" onClick={refreshData}>{t('settings.refresh')}</button>
      </section>
      <p class="small muted center">gridsnap {typeof __APP_VERSION__ !== 'undefined' ? __APP_VERSION__ : ''}</p>
    </div>
  );
}
