import { useState } from 'preact/hooks';
import { getLang, setLang, t, tn } from '../i18n/index.js';
import { ApiError } from '../lib/api.js';
import { login } from '../lib/session.js';
import { syncSoon } from '../syncing.js';
import { getState, reload } from '../store.js';
import { pending } from '../lib/outbox.js';

export function Login({ expired, lastUser }) {
  const [username, setUsername] = useState(lastUser?.username || '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const waiting = pending(getState().items).length;

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
      await reload('session');
      syncSoon({ force: true, reason: 'login' });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'auth.bad_credentials') setError(t('login.bad_credentials'));
      else if (err instanceof ApiError) setError(`${t('login.failed')} ${err.message}`);
      else setError(t('login.offline'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <img src="/icons/icon.svg" alt="" width="72" height="72" />
      <h1>{t('app.title')}</h1>
      <p class="muted">{t('login.subtitle')}</p>
      {expired && (
        <p class="notice warn" role="alert" data-testid="login-expired">
          {t('login.expired')} {waiting > 0 && tn('login.outbox_kept', waiting)}
        </p>
      )}
      <form onSubmit={submit} class="stack">
        <label for="username">{t('login.username')}</label>
        <input id="username" name="username" autocomplete="username" required value={username}
          autocapitalize="none" onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="password">{t('login.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required
          value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        {error && <p class="error" role="alert" data-testid="login-error">{error}</p>}
        <button type="submit" class="primary big" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
      </form>
      <button type="button" class="link" onClick={() => setLang(getLang() === 'en' ? 'zh-CN' : 'en')}>
        {t('settings.switch_lang')}
      </button>
    </main>
  );
}
