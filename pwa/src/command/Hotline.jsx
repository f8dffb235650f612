// 接诉即办 for the call-taker (话务员), desktop and keyboard first: a call is recorded in one
// form read top to bottom (phone, name, nature, category, address, description, urgency; the
// answer for a consultation answered on the call), sent with Enter in any single-line field or
// Ctrl+Enter anywhere; and the callbacks (回访) waiting for a call. Callers' numbers are shown
// masked; "show number" asks the server, which writes the view to the audit trail. The place is
// a typed address or a point picked on the small map (CallMap, a lazy chunk), each shown as the
// grid's names the server resolves it to; a picked point wins over the address. The request's
// class (诉求分类) is searched as the call-taker types Chinese, pinyin or English, each class
// shown with the unit it goes to in the call's area (派单目录); the address is searched among the
// address points (门牌), whose point and cell the case then gets; a number that called before
// within the window is said so (重复来电), with its cases; once the class and the place are
// chosen, the open or recently closed requests of that class there are said so (重复诉求).
import { useEffect, useRef, useState } from 'preact/hooks';
import { lazyComponent } from '../components/Lazy.jsx';
import { getLang, nameOf, statusText, t } from '../i18n/index.js';
import { uuid } from '../lib/ids.js';
import { useStore } from '../store.js';
import { call } from './api.js';
import { Suggest } from './Suggest.jsx';

const CallMap = lazyComponent(() => import('./CallMap.jsx'), 'default');

const NATURES = ['complaint', 'help', 'consultation', 'report', 'suggestion', 'praise'];
const URGENCIES = ['ordinary', 'urgent', 'emergency', 'complex'];
const EMPTY = { phone: '', name: '', anonymous: false, nature: 'complaint', category: '',
  klass: '', address: '', description: '', urgency: 'ordinary', answer: '' };

/** A class of the catalogue as listed: its name, its path, the unit it goes to. */
function ClassItem({ c }) {
  const path = c.path.map(nameOf).join(' › ');
  return (
    <span>
      <strong>{nameOf(c)}</strong>
      {path && <span class="small muted"> · {path}</span>}
      <span class="small"> → {c.department ? nameOf(c.department) : t('hot.class_no_unit')}</span>
    </span>
  );
}

/** "This number called N times in 30 days", with the cases' numbers. */
function RepeatNotice({ history }) {
  if (!history || history.calls === 0) return null;
  return (
    <p class="notice warn" role="status" data-testid="call-repeat">
      {t('hot.repeat', { n: history.calls, days: history.window_days })}
      {' '}
      {history.cases.map((c) => (
        <span class="repeat-case" data-testid="call-repeat-case">#{c.number} {statusText(c.status)}</span>
      ))}
    </p>
  );
}

/** "N requests of this class here in 30 days" (重复诉求), with the cases' numbers. */
function PlaceNotice({ found }) {
  if (!found || found.requests === 0) return null;
  return (
    <p class="notice warn" role="status" data-testid="call-repeat-request">
      {t('hot.repeat_request', { n: found.requests, days: found.window_days, m: found.radius_m })}
      {' '}
      {found.cases.map((c) => (
        <span class="repeat-case" data-testid="call-repeat-request-case">#{c.number} {statusText(c.status)}</span>
      ))}
    </p>
  );
}

export function CallForm() {
  const s = useStore();
  const [f, setF] = useState(EMPTY);
  const [place, setPlace] = useState(null);
  const [point, setPoint] = useState(null);
  const [located, setLocated] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const [klass, setKlass] = useState(null);
  const [addressPoint, setAddressPoint] = useState(null);
  const [history, setHistory] = useState(null);
  const [samePlace, setSamePlace] = useState(null);
  // when this call began: the first keystroke of a new call (sent as called_at; the handling
  // time per call-taker runs from it to the request recorded)
  const startedAt = useRef(null);
  const first = useRef(null);
  const set = (k) => (e) => {
    const v = e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value;
    setF((old) => ({ ...old, [k]: v }));
  };
  const doneRef = useRef(null);
  useEffect(() => { first.current?.focus(); }, []);
  // a call recorded: its number in view, the phone field ready for the next call below it
  useEffect(() => { if (done) doneRef.current?.scrollIntoView({ block: 'start' }); }, [done]);

  const setField = (k) => (v) => setF((old) => ({ ...old, [k]: v }));
  // the call's area, once known: the class list then names the unit of that area
  const area = located?.area_code || place?.code || null;

  async function findClasses(q) {
    const params = new URLSearchParams({ q });
    if (area) params.set('area', area);
    const { data } = await call(`catalogue/search?${params}`);
    return data;
  }
  async function findAddresses(q) {
    const { data } = await call(`hotline/addresses?${new URLSearchParams({ q })}`);
    return data;
  }
  function pickAddress(a) {
    setAddressPoint(a);
    setPlace(a);
  }
  async function lookUpNumber() {
    const phone = f.phone.trim();
    if (phone.replace(/\D/g, '').length < 5) return setHistory(null);
    try {
      const { data } = await call('hotline/caller-history', { method: 'POST', json: { phone } });
      setHistory(data);
    } catch {
      setHistory(null);
    }
  }

  // 重复诉求: asked again whenever the class (or category) or the place changes
  useEffect(() => {
    const body = {};
    if (klass) body.request_class = klass.code;
    if (f.category) body.category = f.category;
    if (point) body.location = point;
    else if (addressPoint) body.address_id = addressPoint.address_id;
    if (!(body.request_class || body.category) || !(body.location || body.address_id)) {
      setSamePlace(null);
      return undefined;
    }
    let live = true;
    call('hotline/place-history', { method: 'POST', json: body })
      .then(({ data }) => { if (live) setSamePlace(data); })
      .catch(() => { if (live) setSamePlace(null); });
    return () => { live = false; };
  }, [klass, f.category, point, addressPoint]);

  async function locate() {
    if (addressPoint && f.address === addressPoint.address) return;
    setAddressPoint(null);
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
      nature: f.nature, description: f.description, urgency: f.urgency,
      address: f.address.trim() || null,
      called_at: (startedAt.current || new Date()).toISOString(),
    };
    if (klass) body.request_class = klass.code;
    if (f.category || !klass) body.category = f.category;
    if (addressPoint && !point) body.address_id = addressPoint.address_id;
    if (point) body.location = point;
    if (f.nature === 'consultation' && f.answer.trim()) body.answer = f.answer.trim();
    try {
      const { data } = await call(`hotline/calls/${uuid()}`, { method: 'PUT', json: body });
      setDone(data);
      startedAt.current = null;
      setF(EMPTY);
      setPlace(null);
      setKlass(null);
      setAddressPoint(null);
      setHistory(null);
      setSamePlace(null);
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
      <form class="card call-form" data-testid="call-form" onSubmit={submit} onKeyDown={onKey}
        onInput={() => { if (!startedAt.current) startedAt.current = new Date(); }}>
        <h2>{t('hot.take_call')}</h2>
        <div class="row wrap">
          <label><span>{t('hot.phone')}</span>
            <input ref={first} inputMode="tel" value={f.phone} onInput={set('phone')} onBlur={lookUpNumber}
              data-testid="call-phone" /></label>
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
          <label class="grow"><span id="call-class-label">{t('hot.class')}</span>
            <Suggest value={f.klass} onInput={(v) => { setField('klass')(v); if (klass && v !== nameOf(klass)) setKlass(null); }}
              fetchItems={findClasses} render={(c) => <ClassItem c={c} />} label={nameOf}
              onPick={setKlass} testid="call-class" placeholder={t('hot.class_hint')} /></label>
          <label><span>{t('hot.urgency')}</span>
            <select value={f.urgency} onChange={set('urgency')} data-testid="call-urgency">
              {URGENCIES.map((u) => <option value={u}>{t(`hot.urgency_${u}`)}</option>)}
            </select></label>
          <label><span>{t(klass ? 'hot.category_optional' : 'hot.category')}</span>
            <select value={f.category} onChange={set('category')} data-testid="call-category" required={!klass}>
              <option value="">—</option>
              {s.categories.map((c) => <option value={c.code}>{c.code} {nameOf(c)}</option>)}
            </select></label>
        </div>
        {klass && (
          <p class="small" data-testid="call-class-chosen">
            {t('hot.class_chosen', { code: klass.code })} <ClassItem c={klass} />
          </p>
        )}
        <RepeatNotice history={history} />
        <label><span>{t('hot.address')}</span>
          <Suggest value={f.address} onInput={setField('address')} onBlur={locate}
            fetchItems={findAddresses} label={(a) => a.address} onPick={pickAddress}
            render={(a) => <span>{getLang() === 'en' && a.address_en ? a.address_en : a.address}
              <span class="small muted"> · {nameOf(a)}</span></span>}
            testid="call-address" placeholder={t('hot.address_hint')} /></label>
        {place && (
          <p class="small" data-testid="call-place">
            {t('hot.placed', { name: place.source === 'address' ? `${place.address} · ${nameOf(place)}` : place.name })}
          </p>
        )}
        {place === false && !point && <p class="small error">{t('hot.not_placed')}</p>}
        <PlaceNotice found={samePlace} />
        <label><span>{t('hot.description')}</span>
          <textarea rows="3" value={f.description} onInput={set('description')} data-testid="call-description" /></label>
        {f.nature === 'consultation' && (
          <label><span>{t('hot.answer')}</span>
            <textarea rows="2" value={f.answer} onInput={set('answer')} data-testid="call-answer" /></label>
        )}
        <fieldset class="call-point">
          <legend>{t('hot.point')}</legend>
          <p class="small muted" id="call-map-help">{t('hot.map_help')}</p>
          <CallMap point={point} onPick={pickPoint} />
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
