// One case for the command centre: photos before and after, where it is (accuracy circle), the
// cell and area chain, the audit trail, due time and stage, possible duplicates side by side, and
// exactly the actions the server allows (If-Match: the case's ETag; a stale one reloads and says
// why).
import { useEffect, useState } from 'preact/hooks';
import { lazyComponent } from '../components/Lazy.jsx';
import { BlobImage } from '../components/BlobImage.jsx';
import { reasonText } from '../components/ItemState.jsx';
import { formatTime, getLang, nameOf, statusText, t } from '../i18n/index.js';
import { ApiError } from '../lib/api.js';
import { photoFlags } from '../lib/evidence.js';
import { uuid } from '../lib/ids.js';
import { useStore } from '../store.js';
import { call, departmentsOf, needsNote, vocabulary } from './api.js';
import { JointBlock, NoticeBlock, NoticeForm, WhistleForm } from './Joint.jsx';
import { bump, live, setLive, useLive } from './live.js';
import { EstimatedMark } from './CalendarBanner.jsx';

// the one position map (Leaflet, its own chunk: the panel paints before it)
const CaseSpot = lazyComponent(() => import('../components/CaseSpot.jsx'), 'default',
  () => <div class="mini-map" aria-hidden="true" />);

const thumbs = new Map(); // photo id:size → Blob, for this page's life

function AuthPhoto({ photo, size, alt, onClick }) {
  const key = `${photo.id}:${size}`;
  const [blob, setBlob] = useState(thumbs.get(key) || null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (blob) return undefined;
    let live = true;
    call(`/api/v1/photos/${photo.id}?size=${size}`, { as: 'blob', timeoutMs: 60000 })
      .then(({ data }) => { thumbs.set(key, data); if (live) setBlob(data); })
      .catch(() => live && setFailed(true));
    return () => { live = false; };
  }, [key]);
  if (!blob) {
    return <span class="img-placeholder" role="img" aria-label={failed ? t('cmd.photo_not_ready') : alt} />;
  }
  return onClick
    ? <button type="button" class="photo-btn" onClick={onClick} aria-label={alt}><BlobImage blob={blob} alt={alt} /></button>
    : <BlobImage blob={blob} alt={alt} />;
}

const PURPOSES = ['report', 'resolution', 'verification'];
const DUPES_SHOWN = 4; // the nearest possible duplicates shown at first (the server sends nearest first)
const DUPES_PAGE = 100; // asked for at a time when all are shown

/** A photo's EXIF time, and the same flags the worker saw: old, or taken far from the case. */
function EvidenceFlags({ photo, c, limits }) {
  const exif = photo.exif_taken_at || photo.exif_location ? {
    taken_at: photo.exif_taken_at, lon: photo.exif_location?.lon, lat: photo.exif_location?.lat,
    distance_m: photo.exif_distance_m } : null;
  const f = photoFlags(exif, { at: c.captured_at, location: c.location }, limits);
  if (!f.takenAt && f.distanceM == null) return null;
  return (
    <p class="small evidence-flags" data-testid="photo-evidence" data-old={f.old} data-far={f.far}
      data-source={photo.exif_source || ''}>
      {f.takenAt && <span class={f.old ? 'tag warn-tag' : 'muted'}>
        {f.old ? t('evidence.flag_old', { time: formatTime(f.takenAt) }) : t('evidence.exif_time', { time: formatTime(f.takenAt) })}</span>}
      {f.far && <span class="tag warn-tag"> {t('evidence.flag_far', { m: Math.round(f.distanceM) })}</span>}
      <ExifSource photo={photo} />
    </p>
  );
}

/** Where a photo's EXIF came from: the stored file's own, or only what the phone sent. */
function ExifSource({ photo }) {
  if (!photo.exif_source) return null;
  return <span class="muted exif-source" data-testid="exif-source" data-source={photo.exif_source}>
    {' · '}{t(`evidence.source_${photo.exif_source}`)}</span>;
}
// actions that need a form; the others are one click
const WITH_CALLER = new Set(['hotline', 'open311']);

/** The caller of a hotline or Open311 case (invariant 10): masked for everyone; call-takers and
 * admins may ask for the number, which the server writes to the case's audit trail. */
function CallerLine({ c, role, onRevealed }) {
  const [caller, setCaller] = useState(null);
  const [repeats, setRepeats] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setCaller(null);
    setError(null);
    if (!WITH_CALLER.has(c.source)) return undefined;
    let on = true;
    call(`hotline/cases/${c.id}/caller`).then(({ data }) => on && setCaller(data))
      .catch((err) => on && setCaller(err instanceof ApiError && err.status === 404 ? false : null));
    // 重复来电: the other calls of this number that the viewer may see
    setRepeats(null);
    call(`hotline/cases/${c.id}/repeat-calls`).then(({ data }) => on && setRepeats(data)).catch(() => {});
    return () => { on = false; };
  }, [c.id, c.source]);
  async function reveal() {
    try {
      const { data } = await call(`hotline/cases/${c.id}/caller?unmasked=true`);
      setCaller(data);
      onRevealed();
    } catch (err) {
      setError(err instanceof ApiError ? reasonText(err) : t('cmd.offline'));
    }
  }
  if (!caller) return null;
  const who = [caller.name, caller.phone || t('hot.no_phone'), caller.email].filter(Boolean).join(' · ');
  const others = repeats && repeats.calls > 0 && (
    <p class="notice warn small" data-testid="case-repeat-calls">
      {t('cmd.repeat_calls', { n: repeats.calls, days: repeats.window_days })}
      {repeats.cases.map((r) => <span class="repeat-case">#{r.number} {statusText(r.status)}</span>)}
    </p>
  );
  return (
    <div class="small" data-testid="case-caller">
      <p class="row wrap">
        <span>{t('cmd.caller')}: <span data-testid="case-caller-text">{who}</span>
          {caller.anonymous && <> ({t('hot.anonymous')})</>}</span>
        {caller.masked && vocabulary().unmaskedRoles.includes(role) && (
          <button type="button" class="secondary" onClick={reveal} data-testid="case-caller-reveal">
            {t('hot.reveal')}</button>
        )}
      </p>
      {others}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

// actions with a form (the others are one click): a department to choose, or a note to give
const WITH_DEPARTMENT = new Set(['dispatch', 'approve_return']);
const DANGER = new Set(['reject', 'rework', 'refuse_return', 'refuse_suspension']);
// actions with a form of their own (Joint.jsx)
const OWN_FORM = new Set(['whistle', 'issue_notice']);

export function CasePanel({ id, onClose, form = null }) {
  const s = useStore();
  const lv = useLive();
  const [c, setCase] = useState(null);
  const [etag, setEtag] = useState(null);
  const [events, setEvents] = useState([]);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [pending, setPending] = useState(null); // the action whose form is open
  const [note, setNote] = useState('');
  const [publicNote, setPublicNote] = useState(''); // 公开答复: the only text the public sees
  const [department, setDepartment] = useState('');
  const [busy, setBusy] = useState(false);
  const [big, setBig] = useState(null);
  // a hot spot has hundreds: the case names the nearest few and the count; all of them are
  // asked for a page at a time (null: the nearest only)
  const [allDupes, setAllDupes] = useState(null);
  const departments = departmentsOf(s.categories);

  async function load() {
    try {
      const [one, evs] = await Promise.all([call(`cases/${id}`), call(`cases/${id}/events`)]);
      setCase(one.data);
      setEtag(one.headers.get('ETag'));
      const loc = one.data?.location;
      if (loc && live().focus?.id !== one.data.id) setLive({ focus: { id: one.data.id, lon: loc.lon, lat: loc.lat } });
      setEvents(evs.data || []);
      setError(null);
      return one.data;
    } catch (err) {
      setError(err instanceof ApiError ? reasonText(err) : t('cmd.offline'));
      return null;
    }
  }

  useEffect(() => {
    setCase(null);
    setAllDupes(null);
    setPending(null);
    setNotice(null);
    // opened from a proposal (吹哨): the form comes up at once when the action is allowed
    load().then((one) => { if (form && (one?.allowed_actions || []).includes(form)) setPending(form); });
  }, [id, form]);
  // something changed in scope: this case may be among it
  useEffect(() => { if (c && !busy) load(); }, [lv.changed]);

  async function moreDupes() {
    const have = allDupes || [];
    try {
      const { data } = await call(
        `cases/${id}/possible-duplicates?page=${Math.floor(have.length / DUPES_PAGE) + 1}&page_size=${DUPES_PAGE}`);
      setAllDupes([...have, ...(data || [])]);
    } catch (err) {
      setError(err instanceof ApiError ? reasonText(err) : t('cmd.offline'));
    }
  }

  async function act(action, extra = {}) {
    if (busy) return;
    setBusy(true);
    setNotice(null);
    try {
      const json = { action, client_action_id: uuid(), ...extra };
      if (note.trim()) json.note = note.trim();
      if (publicNote.trim()) json.public_note = publicNote.trim();
      const { data, headers } = await call(`cases/${id}/actions`, { method: 'POST', json,
        headers: etag ? { 'If-Match': etag } : {} });
      setCase(data);
      setEtag(headers.get('ETag'));
      setPending(null);
      setNote('');
      setPublicNote('');
      setNotice({ kind: 'ok', text: t('cmd.done', { action: t(`action.${action}`) }) });
      call(`cases/${id}/events`).then((r) => setEvents(r.data || [])).catch(() => {});
      bump(); // the map and list follow at once
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 412)) {
        await load();
        setPending(null);
        setNotice({ kind: 'error', text: t('cmd.stale', { reason: err.message }) });
      } else {
        setNotice({ kind: 'error', text: err instanceof ApiError ? reasonText(err) : t('cmd.offline') });
      }
    } finally {
      setBusy(false);
    }
  }

  // a photo is private until a supervisor of the area (or an admin) makes it public (Open311)
  const canPublish = ['supervisor', 'admin'].includes(s.session?.user?.role);
  async function setPhotoPublic(p, on) {
    try {
      await call(`photos/${p.id}/public`, { method: on ? 'PUT' : 'DELETE' });
      await load();
    } catch (err) {
      setNotice({ kind: 'error', text: err instanceof ApiError ? reasonText(err) : t('cmd.offline') });
    }
  }

  function start(action) {
    setNotice(null);
    setNote('');
    setPublicNote('');
    if (action === 'dispatch') setDepartment(c.suggested_department || c.department || departments[0]?.code || '');
    if (action === 'approve_return') {
      // 退单审核: approve and re-dispatch to another department than the one that returned it
      const back = c.pending_return?.department;
      const other = [c.suggested_department, ...departments.map((d) => d.code)]
        .find((code) => code && code !== back);
      setDepartment(other || '');
    }
    if (WITH_DEPARTMENT.has(action) || needsNote(action) || OWN_FORM.has(action)) setPending(action);
    else act(action);
  }

  if (error && !c) return <aside class="cmd-panel card"><p class="error">{error}</p></aside>;
  if (!c) return <aside class="cmd-panel card"><p class="loading">{t('common.loading')}</p></aside>;
  const cat = s.categories.find((x) => x.code === c.category);
  const deptName = (code) => {
    const d = departments.find((x) => x.code === code);
    return d ? nameOf(d) : code;
  };
  // how many possible duplicates there are (the case names only the nearest few)
  const dupesTotal = c.possible_duplicates_total ?? (c.possible_duplicates || []).length;
  const chain = [['cell', c.cell], ['community', c.community], ['street', c.street], ['district', c.district]]
    .filter(([, a]) => a);
  const actions = (c.allowed_actions || []).filter((a) => a !== 'merge' && a !== 'unmerge');
  return (
    <aside class="cmd-panel" data-testid="case-panel" data-status={c.status} aria-labelledby="case-title">
      <div class="panel-head">
        <h2 id="case-title">{t('records.case_n', { n: c.number })} · {cat ? nameOf(cat) : c.category}</h2>
        <button type="button" class="close" onClick={onClose} aria-label={t('common.close')}>✕</button>
      </div>
      <p>
        <span class={`status-tag st-${c.status}`} data-testid="case-status">{statusText(c.status)}</span>
        {c.overdue && <span class="tag danger" data-testid="case-overdue">{t('tasks.overdue')}</span>}
        {c.stage && <span class="tag">{t(`stage.${c.stage}`)}</span>}
      </p>
      {c.due_at && <p class="small">{t('tasks.due', { time: formatTime(c.due_at) })}<EstimatedMark c={c} /></p>}
      {c.department && <p class="small">{t('cmd.department')}: {deptName(c.department)}</p>}
      {c.pending_return && (
        <p class="notice small" data-testid="case-return-pending">{t('cmd.return_pending', {
          dept: c.pending_return.department ? deptName(c.pending_return.department) : '—',
          reason: t(`reason.${c.pending_return.reason}`), note: c.pending_return.note || '' })}</p>
      )}
      {c.suspension && (
        <p class="notice small" data-testid="case-suspension" data-state={c.suspension.status}>
          {t(c.suspension.status === 'pending' ? 'cmd.suspension_pending' : 'cmd.suspended_until', {
            reason: t(`suspend.${c.suspension.reason_kind}`), date: c.suspension.review_on,
            note: c.suspension.note || '' })}</p>
      )}
      {c.pending_extension && (
        <p class="notice small">{t('cmd.extension_asked', { amount: c.pending_extension.amount,
          unit: t(`unit.${c.pending_extension.unit}`), reason: c.pending_extension.reason || '' })}</p>
      )}
      {c.description && <p>{c.description}</p>}
      {c.request_class && <p class="small" data-testid="case-class">{t('hot.class')}: {c.request_class.code} {nameOf(c.request_class)}</p>}
      {c.address_point && (
        <p class="small" data-testid="case-address-point">{t('cmd.address_point')}: {getLang() === 'en' && c.address_point.address_en ? c.address_point.address_en : c.address_point.address}</p>
      )}
      {c.repeat_request && (
        <p class="notice warn small" data-testid="case-repeat-request">{t('cmd.repeat_request')}</p>
      )}
      <CallerLine c={c} role={s.session.user.role}
        onRevealed={() => call(`cases/${id}/events`).then((r) => setEvents(r.data || [])).catch(() => {})} />
      {notice && <p class={notice.kind === 'ok' ? 'notice' : 'error'} role="status" data-testid="panel-notice">{notice.text}</p>}

      {actions.length > 0 && !pending && (
        <div class="row wrap panel-actions" data-testid="case-actions">
          {actions.map((a) => (
            <button type="button" class={DANGER.has(a) ? 'danger' : 'primary'}
              data-testid={`action-${a}`} disabled={busy} onClick={() => start(a)}>{t(`action.${a}`)}</button>
          ))}
        </div>
      )}
      {pending === 'whistle' && (
        <WhistleForm c={c} departments={departments} busy={busy} onCancel={() => setPending(null)}
          onSubmit={(extra) => act('whistle', extra)} />
      )}
      {pending === 'issue_notice' && (
        <NoticeForm c={c} departments={departments} busy={busy} onCancel={() => setPending(null)}
          onSubmit={(extra) => act('issue_notice', extra)} />
      )}
      {pending && !OWN_FORM.has(pending) && (
        <div class="card stack" data-testid="action-form">
          <strong>{t(`action.${pending}`)}</strong>
          {WITH_DEPARTMENT.has(pending) && (
            <>
              <label for="dispatch-dept">{pending === 'dispatch' ? t('cmd.department') : t('cmd.redispatch_to')}</label>
              <select id="dispatch-dept" value={department} data-testid="dispatch-department"
                onChange={(e) => setDepartment(e.currentTarget.value)}>
                {pending === 'approve_return' && <option value="">{t('cmd.approve_only')}</option>}
                {departments.map((d) => (
                  <option value={d.code}>{nameOf(d)}{d.code === c.suggested_department ? ` (${t('cmd.suggested')})` : ''}</option>
                ))}
              </select>
            </>
          )}
          <label for="action-note">{needsNote(pending) ? t('desk.note_required') : t('cmd.note_optional')}</label>
          <textarea id="action-note" rows="2" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          <p class="small muted">{t('cmd.note_internal')}</p>
          <label for="action-public-note">{t('cmd.public_note')} <span class="tag public">{t('cmd.public')}</span></label>
          <textarea id="action-public-note" rows="2" value={publicNote} data-testid="action-public-note"
            onInput={(e) => setPublicNote(e.currentTarget.value)} />
          <p class="small muted">{t('cmd.public_note_hint')}</p>
          <div class="row">
            <button type="button" class="secondary" onClick={() => setPending(null)}>{t('common.cancel')}</button>
            <button type="button" class="primary" data-testid="action-confirm"
              disabled={busy || (needsNote(pending) && !note.trim())}
              onClick={() => act(pending, WITH_DEPARTMENT.has(pending) && department ? { department } : {})}>
              {pending === 'approve_return' && department
                ? t('cmd.approve_and_dispatch', { dept: deptName(department) }) : t(`action.${pending}`)}</button>
          </div>
        </div>
      )}

      <JointBlock joint={c.joint} departments={departments} />
      <NoticeBlock notices={c.notices} departments={departments} />

      <h3>{t('cmd.photos')}</h3>
      {PURPOSES.map((purpose) => {
        const list = (c.photos || []).filter((p) => (p.purpose || 'report') === purpose);
        if (!list.length) return null;
        return (
          <div key={purpose}>
            <p class="small muted">{t(`purpose.${purpose}`)}</p>
            <ul class="thumbs" data-testid={`photos-${purpose}`}>
              {list.map((p, i) => (
                <li key={p.id}><AuthPhoto photo={p} size="thumb" alt={t('capture.photo_n', { n: i + 1 })}
                  onClick={() => setBig(p)} />
                <EvidenceFlags photo={p} c={c} limits={s.server?.evidence} />
                {p.public && <span class="tag public">{t('cmd.public')}</span>}
                {canPublish && (
                  <button type="button" class="link small" data-testid="photo-public"
                    onClick={() => setPhotoPublic(p, !p.public)}>
                    {p.public ? t('cmd.photo_private') : t('cmd.photo_public')}</button>
                )}</li>
              ))}
            </ul>
          </div>
        );
      })}
      {!(c.photos || []).length && <p class="small muted">—</p>}

      <h3>{t('cmd.position')}</h3>
      {c.location && (
        <CaseSpot location={c.location} cell={c.cell?.code} />
      )}
      <p class="small muted">
        {c.location && `${c.location.lon.toFixed(6)}, ${c.location.lat.toFixed(6)}`}
        {c.location?.accuracy_m != null && ` · ±${Math.round(c.location.accuracy_m)} m`}
      </p>
      <ol class="chain small" data-testid="area-chain">
        {chain.length ? chain.map(([level, a]) => (
          <li><span class="muted">{t(`level.${level}`)}</span> {nameOf(a)} <small class="muted">{a.code}</small></li>
        )) : <li>{t('records.outside_grid')}</li>}
      </ol>

      {(c.possible_duplicates || []).length > 0 && (
        <>
          <h3>{t('cmd.possible_duplicates')}</h3>
          <div class="dupes" data-testid="duplicates">
            <div class="dupe this">
              <strong>{t('records.case_n', { n: c.number })}</strong>
              <p class="small">{statusText(c.status)}</p>
              <p class="small">{c.description}</p>
            </div>
            {(allDupes || c.possible_duplicates.slice(0, DUPES_SHOWN)).map((d) => (
              <div class="dupe" key={d.id}>
                <strong>{t('records.case_n', { n: d.number })}</strong>
                {d.repeat && <p class="small" data-testid="dupe-repeat"><strong>{t('cmd.repeat_tag')}</strong></p>}
                <p class="small">{statusText(d.status)} · {t('cmd.distance', { m: Math.round(d.distance_m) })}</p>
                <p class="small">{d.description}</p>
                {(c.allowed_actions || []).includes('merge') && (
                  <button type="button" class="secondary" disabled={busy} data-testid="merge-into"
                    onClick={() => act('merge', { target_case_id: d.id })}>{t('cmd.merge_into')}</button>
                )}
              </div>
            ))}
          </div>
          {dupesTotal > DUPES_SHOWN && (
            <p class="small row wrap" data-testid="duplicates-count">
              {t('cmd.duplicates_shown', { shown: allDupes ? allDupes.length : DUPES_SHOWN, total: dupesTotal })}
              {allDupes && allDupes.length < dupesTotal && (
                <button type="button" class="link" onClick={moreDupes}
                  data-testid="duplicates-more">{t('cmd.duplicates_more')}</button>
              )}
              <button type="button" class="link" onClick={() => (allDupes ? setAllDupes(null) : moreDupes())}
                data-testid="duplicates-toggle">{t(allDupes ? 'cmd.duplicates_fewer' : 'cmd.duplicates_all')}</button>
            </p>
          )}
        </>
      )}
      {(c.allowed_actions || []).includes('unmerge') && (
        <button type="button" class="secondary" onClick={() => act('unmerge')}>{t('action.unmerge')}</button>
      )}

      <h3>{t('cmd.timeline')}</h3>
      <ol class="timeline" data-testid="timeline">
        {events.map((e) => (
          <li key={e.id}>
            <time class="small muted">{formatTime(e.at)}</time>
            <div>
              <strong>{t(`event.${e.action}`) === `event.${e.action}` ? e.action : t(`event.${e.action}`)}</strong>
              {e.to_status && e.from_status !== e.to_status && (
                <span class="small"> {e.from_status ? statusText(e.from_status) : ''} → {statusText(e.to_status)}</span>
              )}
              <div class="small muted">{e.actor_display_name || e.actor_username || t('cmd.system')}
                {e.department ? ` · ${deptName(e.department)}` : ''}</div>
              {e.note && <div class="small">{e.note}</div>}
              {e.public_note && (
                <div class="small"><span class="tag public">{t('cmd.public')}</span> {e.public_note}</div>
              )}
            </div>
          </li>
        ))}
      </ol>

      {big && (
        <div class="lightbox" role="dialog" aria-label={t('cmd.photo')} onClick={() => setBig(null)}>
          <figure>
            <AuthPhoto photo={big} size="display" alt={t('cmd.photo')} />
            {big.exif_source && <figcaption data-testid="lightbox-exif-source">
              {big.exif_taken_at && t('evidence.exif_time', { time: formatTime(big.exif_taken_at) })}
              <ExifSource photo={big} /></figcaption>}
          </figure>
          <button type="button" class="close" aria-label={t('common.close')}>✕</button>
        </div>
      )}
    </aside>
  );
}
