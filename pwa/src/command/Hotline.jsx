// 接诉即办 for the call-taker (话务员), desktop and keyboard first: a call is recorded in one
// form read top to bottom (phone, name, nature, category, address, description, urgency; the
// answer for a consultation answered on the call), sent with Enter in any single-line field or
// Ctrl+Enter anywhere; and the callbacks (回访) waiting for a call. Callers' numbers are shown
// masked; "show number" asks the server, which writes the view to the audit trail. The place is
// a typed address or a point picked on the small map (CallMap, a lazy chunk), each shown as the
// grid's names the server resolves it to; a picked point wins over the address.
import { useEffect, useRef, useState } from 'preact/hooks';
import { lazy, Suspense } from 'preact/compat';
import { nameOf, t } from '../i18n/index.js';
import { uuid } from '../lib/ids.js';
import { useStore } from '../store.js';
import { call } from './api.js';

const CallMap = lazy(() => import('./CallMap.jsx'));

const NATURES = ['complaint', 'help', 'consultation', 'report', 'suggestion', 'praise'];
const URGENCIES = ['ordinary', 'urgent', 'emergency', 'complex'];
const EMPTY = { phone: '', name: '', anonymous: false, nature: 'complaint', category: '',
  address: '', description: '', urgency: 'ordinary', answer: '' };

export function CallForm() {
  const s = useStore();
  const [f, setF] = useState(EMPTY);
  const [place, setPlace] = useState(null);
  const [point, setPoint] = useState(null);
  const [located, setLocated] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  const set = (k) => (e) => {
    const v = e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value;
    setF((old) => ({ ...old, [k]: v }));
  };
  const doneRef = useRef(null);
  useEffect(() => { first.current?.focus(); }, []);
  // a call recorded: its number in view, the phone field ready for the next call below it
  useEffect(() => { if (done) doneRef.current?.scrollIntoView({ block: 'start' }); }, [done]);

  async function locate() {
    if (!f.address.trim()) return setPlace(null);
    try {
      const { data } = await call(`hotline/address?${new URLSearchParams({ q: f.address })}`);
      setPlace(data);
    } catch {
      setPlace(false);
    }
  }

  async function pickPoint(p) {
    setPoint(p);
    setLocated(null);
    try {
      const { data } = await call(`cells/locate?${new URLSearchParams({ lon: p.lon, lat: p.lat })}`);
      setLocated(data);
    } catch {
      setLocated(false);
    }
  }
  function clearPoint() {
    setPoint(null);
    setLocated(null);
  }

  async function submit(e) {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const body = {
      caller: { phone: f.phone.trim() || null, name: f.name.trim() || null, anonymous: f.anonymous },
      nature: f.nature, category: f.category, description: f.description, urgency: f.urgency,
      address: f.address.trim() || null, called_at: new Date().toISOString(),
    };
    if (point) body.location = point;
    if (f.nature === 'consultation' && f.answer.trim()) body.answer = f.answer.trim();
    try {
      const { data } = await call(`hotline/calls/${uuid()}`, { method: 'PUT', json: body });
      setDone(data);
      setF(EMPTY);
      setPlace(null);
      clearPoint();
      first.current?.focus({ preventScroll: true });
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  const onKey = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e);
  };
  return (
    <div class="cmd-narrow hotline" data-testid="call-form-wrap">
      {/* above the form, where the call-taker's eyes are when the next call starts: the form with
          its map is taller than a screen, and below it "已受理" went unseen */}
      {done && (
        <p class="notice" role="status" data-testid="call-done" ref={doneRef}>
          {t(done.status === 'closed' ? 'hot.answered' : 'hot.recorded', { n: done.number })}
          {done.caller?.phone && <> · <span data-testid="call-done-phone">{done.caller.phone}</span></>}
        </p>
      )}
      <form class="card call-form" data-testid="call-form" onSubmit={submit} onKeyDown={onKey}>
        <h2>{t('hot.take_call')}</h2>
        <div class="row wrap">
          <label><span>{t('hot.phone')}</span>
            <input ref={first} inputMode="tel" value={f.phone} onInput={set('phone')} data-testid="call-phone" /></label>
          <label><span>{t('hot.name')}</span>
            <input value={f.name} onInput={set('name')} data-testid="call-name" /></label>
          <label class="check"><input type="checkbox" checked={f.anonymous} onChange={set('anonymous')}
            data-testid="call-anonymous" /> {t('hot.anonymous')}</label>
        </div>
        <div class="row wrap">
          <label><span>{t('hot.nature')}</span>
            <select value={f.nature} onChange={set('nature')} data-testid="call-nature">
              {NATURES.map((n) => <option value={n}>{t(`hot.nature_${n}`)}</option>)}
            </select></label>
          <label><span>{t('hot.category')}</span>
            <select value={f.category} onChange={set('category')} data-testid="call-category" required>
              <option value="">—</option>
              {s.categories.map((c) => <option value={c.code}>{c.code} {nameOf(c)}</option>)}
            </select></label>
          <label><span>{t('hot.urgency')}</span>
            <select value={f.urgency} onChange={set('urgency')} data-testid="call-urgency">
              {URGENCIES.map((u) => <option value={u}>{t(`hot.urgency_${u}`)}</option>)}
            </select></label>
        </div>
        <label><span>{t('hot.address')}</span>
          <input value={f.address} onInput={set('address')} onBlur={locate} data-testid="call-address" /></label>
        {place && <p class="small" data-testid="call-place">{t('hot.placed', { name: place.name })}</p>}
        {place === false && !point && <p class="small error">{t('hot.not_placed')}</p>}
        <label><span>{t('hot.description')}</span>
          <textarea rows="3" value={f.description} onInput={set('description')} data-testid="call-description" /></label>
        {f.nature === 'consultation' && (
          <label><span>{t('hot.answer')}</span>
            <textarea rows="2" value={f.answer} onInput={set('answer')} data-testid="call-answer" /></label>
        )}
        <fieldset class="call-point">
          <legend>{t('hot.point')}</legend>
          <p class="small muted" id="call-map-help">{t('hot.map_help')}</p>
          <Suspense fallback={<p class="loading">{t('common.loading')}</p>}>
            <CallMap point={point} onPick={pickPoint} />
          </Suspense>
          {point && (
            <div class="row wrap" role="status">
              <span data-testid="call-point">{placeLine(located)}</span>
              <span class="small muted">{point.lat.toFixed(6)}, {point.lon.toFixed(6)}</span>
              <button type="button" class="secondary" onClick={clearPoint} data-testid="call-point-clear">
                {t('hot.point_clear')}</button>
            </div>
          )}
        </fieldset>
        <div class="row">
          <button type="submit" disabled={busy} data-testid="call-submit">{t('hot.record')}</button>
          <span class="small muted">{t('hot.keys')}</span>
        </div>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </div>
  );
}

/** The grid's names of a picked point: cell · community · street, or why there are none. */
function placeLine(located) {
  if (located == null) return t('common.loading');
  if (located === false) return t('hot.not_placed');
  const names = ['cell', 'community', 'street'].map((k) => located[k]).filter(Boolean).map(nameOf);
  if (!names.length) return t('hot.point_outside');
  return t(located.outside_grid ? 'hot.point_near' : 'hot.placed', { name: names.join(' · ') });
}

function CallbackItem({ c, onDone }) {
  const [phone, setPhone] = useState(c.caller?.phone);
  const [a, setA] = useState({ responded: true, solved: true, satisfaction: 'satisfied', reopen: false, note: '' });
  const [error, setError] = useState(null);
  const negative = !a.solved || a.satisfaction === 'dissatisfied';
  async function reveal() {
    const { data } = await call(`hotline/cases/${c.id}/caller?unmasked=true`);
    setPhone(data.phone);
  }
  async function record(reached) {
    setError(null);
    const body = reached
      ? { callback: { reached: true, responded: a.responded, solved: a.solved, satisfaction: a.satisfaction },
        reopen: negative && a.reopen, note: a.note || undefined }
      : { callback: { reached: false } };
    try {
      await call(`hotline/callbacks/${c.id}`, { method: 'POST', json: body });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  }
  const set = (k, v) => setA((old) => ({ ...old, [k]: v }));
  return (
    <li class="card" data-testid="callback-item">
      <strong>#{c.number}</strong> {c.description}
      <div class="row wrap">
        <span data-testid="callback-phone">{phone || t('hot.no_phone')}</span>
        {c.caller?.masked && phone === c.caller.phone && (
          <button type="button" class="secondary" onClick={reveal} data-testid="callback-reveal">{t('hot.reveal')}</button>
        )}
        <span class="small muted">{t('hot.tries', { n: c.callback_attempts })}</span>
      </div>
      <div class="row wrap">
        <label class="check"><input type="checkbox" checked={a.responded} onChange={(e) => set('responded', e.currentTarget.checked)} /> {t('hot.responded')}</label>
        <label class="check"><input type="checkbox" checked={a.solved} onChange={(e) => set('solved', e.currentTarget.checked)} /> {t('hot.solved')}</label>
        <label>{t('hot.satisfaction')}{' '}
          <select value={a.satisfaction} onChange={(e) => set('satisfaction', e.currentTarget.value)} data-testid="callback-satisfaction">
            {['satisfied', 'basically_satisfied', 'dissatisfied'].map((x) => <option value={x}>{t(`hot.sat_${x}`)}</option>)}
          </select>
        </label>
        {negative && (
          <label class="check"><input type="checkbox" checked={a.reopen} onChange={(e) => set('reopen', e.currentTarget.checked)} /> {t('hot.reopen')}</label>
        )}
        {negative && a.reopen && <input placeholder={t('hot.reopen_note')} aria-label={t('hot.reopen_note')} value={a.note} onInput={(e) => set('note', e.currentTarget.value)} />}
      </div>
      <div class="row">
        <button type="button" onClick={() => record(true)} data-testid="callback-record">{t('hot.record_callback')}</button>
        <button type="button" class="secondary" onClick={() => record(false)} data-testid="callback-unreached">{t('hot.not_reached')}</button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
    </li>
  );
}

export function Callbacks() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const load = () => call('hotline/callbacks').then(({ data }) => setItems(data)).catch((e) => setError(e.message));
  useEffect(() => { load(); }, []);
  return (
    <div class="cmd-narrow" data-testid="callbacks">
      <h2>{t('hot.callbacks')}</h2>
      {error && <p class="error">{error}</p>}
      {items && items.length === 0 && <p class="muted">{t('hot.no_callbacks')}</p>}
      <ul class="plain">{(items || []).map((c) => <CallbackItem c={c} onDone={load} />)}</ul>
    </div>
  );
}
