// The department handler's desk (处置部门): the cases dispatched to my department. Sign (签收),
// resolve with after-photos (处置完毕), hand back with a reason (退单), ask for more time (延期) or
// for the long-term list (挂账/缓办: a reason, a note and a review date).
// A joint case (吹哨报到): report in (报到), and a co-department feeds back to the lead; a
// supervision notice (督办) is answered here too (the 督办 list, read when online).
// 接诉即办: the unit records each try at reaching the caller (先行联系), asks for an unreasonable
// request to leave the rates (不合理诉求), and appeals a rated result (申诉; the called-back
// requests are listed when online).
// Every action is queued in the outbox first and sent like the worker's verification (photos,
// then the action, idempotent by the phone's id), so it works with no signal.
import { useEffect, useState } from 'preact/hooks';
import { lazyComponent } from '../components/Lazy.jsx';
import { ItemState } from '../components/ItemState.jsx';
import { PhotoPicker, usePickedPhotos } from '../components/PhotoPicker.jsx';
import { SyncBar } from '../components/SyncBar.jsx';
import { TaskItem } from '../components/TaskItem.jsx';
import { TaskPhoto } from '../components/TaskPhoto.jsx';
import { formatTime, nameOf, statusText, t } from '../i18n/index.js';
import { request } from '../lib/api.js';
import { addItem } from '../lib/outbox.js';
import { addDays, dayOf } from '../lib/zone.js';
import { syncAfterSave } from '../syncing.js';
import { go } from '../router.js';
import { reload, toast, useStore } from '../store.js';

// Leaflet with the small map only (a lazy chunk, precached like the worker's map)
const CaseSpot = lazyComponent(() => import('../components/CaseSpot.jsx'), 'default',
  () => <div class="mini-map" aria-hidden="true" />);

/** What the desk shows of a case, kept with a queued action: the card stays after it is sent. */
function snapshotOf(task) {
  const keep = ['id', 'number', 'category', 'status', 'description', 'address', 'location', 'cell',
    'community', 'street', 'due_at', 'overdue', 'signed_at', 'reporter_name', 'photos', 'suspension',
    'joint', 'notices'];
  return Object.fromEntries(keep.map((k) => [k, task[k] ?? null]));
}

/** A directions link (AMap's web/app handover, told the point is WGS-84) and a geo: URI. */
export function Directions({ location, label }) {
  if (!location) return null;
  const { lon, lat } = location;
  const name = encodeURIComponent(label || '');
  return (
    <p class="row wrap directions">
      <a class="button secondary" data-testid="directions" target="_blank" rel="noopener"
        href={`https://uri.amap.com/navigation?to=${lon},${lat},${name}&coordinate=wgs84&callnative=1`}>
        {t('desk.directions')}</a>
      <a class="button secondary" href={`geo:${lat},${lon}?q=${lat},${lon}`}>{t('desk.other_map_app')}</a>
    </p>
  );
}

export const RETURN_REASONS = ['wrong_department', 'outside_duties', 'duplicate', 'other'];
/** 挂账/缓办: why it cannot be solved now (cases/rules.py SUSPENSION_REASONS). */
export const SUSPENSION_REASONS = ['funding', 'planning', 'court', 'other'];
const SUSPENSION_MAX_DAYS = 365; // GRIDSNAP_SUSPENSION_MAX_DAYS until the server says
/** 先行联系: how a try at reaching the caller went (cases/contact/rules.py CONTACT_OUTCOMES). */
export const CONTACT_OUTCOMES = ['reached', 'no_answer', 'busy', 'wrong_number', 'declined'];
/** 不合理诉求 and 申诉: the reasons (cases/exclusion/rules.py). */
export const EXCLUSION_REASONS = ['unreasonable', 'duplicate', 'outside_duty'];
export const APPEAL_REASONS = ['caller_misjudged', 'beyond_unit', 'other'];
// 7d (calendar days, 日, as the 12345 rules write them) or 7wd (working days), like the time limits
const UNITS = ['hours', 'working_hours', 'working_days', 'days'];

/**
 * The case's actions as this phone knows them: the server's, with what still waits in the
 * outbox counted as done (a queued sign offers resolve at once). Sent items are already in the
 * server's answer, which replaced the task (a resolved case that came back as rework is new work).
 */
function localActions(task, items, myDepartment) {
  const queued = items.filter((i) => i.kind === 'action' && i.body.case_id === task.id &&
    (i.state === 'saved' || i.state === 'sending'));
  let actions = [...(task.allowed_actions || [])];
  if (queued.some((i) => i.body.action === 'report_in') && task.joint) {
    // reported in (报到): the lead signs next, a co-department feeds back
    if (task.joint.lead === myDepartment) actions = actions.concat(task.signed_at ? [] : ['sign']);
    else actions = actions.concat(['joint_feedback']);
  }
  if (queued.some((i) => i.body.action === 'sign') && actions.includes('sign')) {
    // the lead of a joint case resolves only once every co-department fed back
    const waits = (task.joint?.feedback_missing || []).length > 0;
    actions = actions.filter((a) => a !== 'sign' && a !== 'return')
      .concat(waits ? ['request_extension', 'request_suspension']
        : ['resolve', 'request_extension', 'request_suspension']);
  }
  const done = queued.filter((i) => i.body.action !== 'sign').map((i) => i.body.action);
  // a 挂账 request waits for the command centre: nothing more until it decides
  if (done.some((a) => a === 'resolve' || a === 'return' || a === 'request_suspension')) return [];
  // one request at a time (延期 or 挂账)
  if (done.includes('request_extension')) actions = actions.filter((a) => a !== 'request_suspension');
  return actions.filter((a) => !done.includes(a));
}

/** Report-in state of a summoned department in words (command/Joint.jsx says the same). */
function reportIn(p) {
  if (p.reported_in_at) {
    return t(p.late ? 'joint.reported_late' : 'joint.reported_on_time', { time: formatTime(p.reported_in_at) });
  }
  return t(p.report_in_overdue ? 'joint.not_reported_overdue' : 'joint.not_reported', { time: formatTime(p.report_due_at) });
}

function JointFacts({ joint }) {
  if (!joint) return null;
  return (
    <section class="card" data-testid="desk-joint">
      <h2>{t('joint.title')}</h2>
      <ul class="small">
        {joint.participants.map((p) => (
          <li key={p.department} data-testid="desk-joint-participant" data-department={p.department}>
            <strong>{nameOf(p)}</strong> · {t(`joint.role_${p.role}`)} · {reportIn(p)}
            {p.role === 'co' && <> · {p.fed_back_at ? `${t('joint.feedback')}: ${p.feedback}` : t('joint.no_feedback')}</>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function noticeState(n) {
  if (n.state === 'replied') return t(n.late ? 'notice.replied_late' : 'notice.replied_on_time', { time: formatTime(n.replied_at) });
  return t(n.state === 'overdue' ? 'notice.overdue' : 'notice.open', { time: formatTime(n.reply_due_at) });
}

/** One open notice (督办) with its reply form; the reply is queued like every desk action. */
function NoticeReply({ n, caseNumber }) {
  const s = useStore();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const queued = s.items.some((i) => i.kind === 'action' && i.body.action === 'reply_notice' &&
    i.body.notice_id === n.id);
  async function send() {
    if (busy || !note.trim()) return;
    setBusy(true);
    try {
      const added = await addItem({ kind: 'action', user: s.session.user.username, photos: [],
        body: { case_id: n.report_id, case_number: caseNumber, action: 'reply_notice',
          notice_id: n.id, note: note.trim(), snapshot: { id: n.report_id, number: caseNumber } } });
      await reload('items');
      toast(t('desk.saved'), 'ok', { item: added.id });
      setNote('');
      syncAfterSave();
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="stack" data-testid="desk-notice" data-state={n.state}>
      <p class="small"><strong>{n.issued_by}</strong> · {formatTime(n.issued_at)}</p>
      <p>{n.note}</p>
      <p class={`small ${n.state === 'overdue' ? 'warn-text' : 'muted'}`}>{noticeState(n)}</p>
      {n.reply && <p class="small">{t('notice.reply')}: {n.reply}</p>}
      {n.state !== 'replied' && !queued && (
        <>
          <label for={`reply-${n.id}`}>{t('notice.reply')}</label>
          <textarea id={`reply-${n.id}`} rows="2" value={note} data-testid="desk-notice-reply"
            onInput={(e) => setNote(e.currentTarget.value)} />
          <button type="button" class="primary" disabled={busy || !note.trim()}
            data-testid="desk-notice-send" onClick={send}>{t('action.reply_notice')}</button>
        </>
      )}
      {queued && <p class="small muted">{t('desk.saved')}</p>}
    </div>
  );
}

/** 申诉 or 不合理诉求 on a called-back request: a reason and the note, queued like every action. */
export function RatedRequestForm({ c, action }) {
  const s = useStore();
  const reasons = action === 'appeal' ? APPEAL_REASONS : EXCLUSION_REASONS;
  const [reason, setReason] = useState(reasons[0]);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const queued = s.items.some((i) => i.kind === 'action' && i.body.case_id === c.id &&
    i.body.action === action);
  async function send() {
    if (busy || !note.trim()) return;
    setBusy(true);
    try {
      const key = action === 'appeal' ? 'appeal' : 'exclusion';
      const added = await addItem({ kind: 'action', user: s.session.user.username, photos: [],
        body: { case_id: c.id, case_number: c.number, action, note: note.trim(),
          [key]: { reason_kind: reason }, snapshot: { id: c.id, number: c.number } } });
      await reload('items');
      toast(t('desk.saved'), 'ok', { item: added.id });
      setNote('');
      syncAfterSave();
    } finally {
      setBusy(false);
    }
  }
  if (queued) return <p class="small muted">{t('desk.saved')}</p>;
  const prefix = action === 'appeal' ? 'appeal' : 'exclusion';
  return (
    <div class="stack" data-testid={`desk-${action}-form`}>
      <label for={`${action}-${c.id}`}>{t(`${prefix}.reason`)}</label>
      <select id={`${action}-${c.id}`} value={reason} data-testid={`desk-${action}-reason`}
        onChange={(e) => setReason(e.currentTarget.value)}>
        {reasons.map((r) => <option value={r}>{t(`${prefix}.${r}`)}</option>)}
      </select>
      <label for={`${action}-note-${c.id}`}>{t('desk.note_required')}</label>
      <textarea id={`${action}-note-${c.id}`} rows="2" value={note} data-testid={`desk-${action}-note`}
        onInput={(e) => setNote(e.currentTarget.value)} />
      <button type="button" class="primary" disabled={busy || !note.trim()}
        data-testid={`desk-${action}-send`} onClick={send}>{t(`action.${action}`)}</button>
    </div>
  );
}

/** 接诉即办: my department's called-back hotline requests, to appeal a rated result (申诉) or ask
 * for an unreasonable one to leave the rates (read when online; the requests work offline). */
function RatedRequests() {
  const s = useStore();
  const [list, setList] = useState(null);
  const [open, setOpen] = useState({});
  useEffect(() => {
    let on = true;
    request('cases?source=hotline&status=closed&page_size=50', { token: s.session.token })
      .then(({ data }) => on && setList((data || []).filter((c) => (c.allowed_actions || [])
        .some((a) => a === 'appeal' || a === 'request_exclusion'))))
      .catch(() => on && setList(null));
    return () => { on = false; };
  }, [s.online, s.tasks.length]);
  if (!list || !list.length) return null;
  return (
    <section class="card" data-testid="desk-rated">
      <h2>{t('desk.rated_title')} <small>({list.length})</small></h2>
      {list.map((c) => (
        <div key={c.id} class="stack" data-testid="desk-rated-case">
          <p class="small"><strong>{t('records.case_n', { n: c.number })}</strong> · {c.description}</p>
          <p class="small muted">{t('desk.callback')}: {t(`desk.callback_${c.callback_status || 'pending'}`)}</p>
          <div class="row wrap">
            {['appeal', 'request_exclusion'].filter((a) => c.allowed_actions.includes(a)).map((a) => (
              <button type="button" class={open[c.id] === a ? 'primary' : 'secondary'}
                data-testid={`desk-rated-${a}`} onClick={() => setOpen({ ...open, [c.id]: a })}>
                {t(`action.${a}`)}</button>
            ))}
          </div>
          {open[c.id] && <RatedRequestForm c={c} action={open[c.id]} />}
        </div>
      ))}
    </section>
  );
}

/** 督办: the open notices to my department (read when online; replies work offline). */
function DeskNotices() {
  const s = useStore();
  const [list, setList] = useState(null);
  useEffect(() => {
    let on = true;
    request('notices?state=open&page_size=100', { token: s.session.token })
      .then(({ data }) => on && setList(data || []))
      .catch(() => on && setList(null));
    return () => { on = false; };
  }, [s.online, s.tasks.length]);
  if (!list || !list.length) return null;
  return (
    <section class="card" data-testid="desk-notices">
      <h2>{t('notice.title')} <small>({list.length})</small></h2>
      {list.map((n) => (
        <div key={n.id} class="stack">
          <a href={`#/desk/${n.report_id}`}>{t('records.case_n', { n: n.number })}</a>
          <NoticeReply n={n} caseNumber={n.number} />
        </div>
      ))}
    </section>
  );
}

export function HandlerDesk() {
  const s = useStore();
  return (
    <div class="tasks">
      <SyncBar />
      <DeskNotices />
      <RatedRequests />
      <h2>{t('desk.title')} <small>({s.tasks.length})</small></h2>
      {s.tasks.length === 0 && <p class="muted" data-testid="tasks-empty">{t('desk.empty')}</p>}
      <ul class="items" data-testid="task-list">
        {s.tasks.map((task) => {
          return (
            <TaskItem task={task} href={`#/desk/${task.id}`} key={task.id}
              before={<>
                {task.joint && <><span class="tag" data-testid="desk-joint-tag">{t(task.joint.lead === s.session.user.department
                  ? 'joint.role_lead' : 'joint.role_co')}</span>{' '}</>}
                <span class="tag">{task.signed_at ? t('desk.signed') : t('desk.not_signed')}</span>{' '}</>} />
          );
        })}
      </ul>
    </div>
  );
}

export function HandlerCase({ id }) {
  const s = useStore();
  const task = s.tasks.find((x) => x.id === id);
  const mine = s.items.filter((i) => i.kind === 'action' && i.body.case_id === id)
    .sort((a, b) => a.createdAt - b.createdAt);
  const [mode, setMode] = useState(null); // resolve | return | request_extension | request_suspension
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('wrong_department');
  const [amount, setAmount] = useState('2');
  const [unit, setUnit] = useState('working_days');
  const [suspendReason, setSuspendReason] = useState('funding');
  const [reviewOn, setReviewOn] = useState('');
  const [outcome, setOutcome] = useState('reached');
  const [contactedAt, setContactedAt] = useState('');
  const [exclusionReason, setExclusionReason] = useState('unreasonable');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [photos, setPhotos, addFiles] = usePickedPhotos(setProblem);

  // the case as the server last told it, else as it was when I acted (it left my desk since)
  const shown = task || [...mine].reverse().find((i) => i.body.snapshot)?.body.snapshot || null;
  const last = mine[mine.length - 1];
  if (!task && !mine.length) {
    return (
      <div class="card">
        <p>{t('tasks.gone')}</p>
        <button type="button" class="secondary" onClick={() => go('desk')}>{t('common.back')}</button>
      </div>
    );
  }
  const actions = task ? localActions(task, s.items, s.session.user.department) : [];
  // the review date: after today, at most the city's limit ahead (days in the deployment's zone)
  const today = dayOf(Date.now());
  const firstReview = addDays(today, 1);
  const lastReview = addDays(today, s.server?.cases?.suspension_max_days || SUSPENSION_MAX_DAYS);
  const cat = shown && s.categories.find((c) => c.code === shown.category);

  async function queue(action, extra = {}, withPhotos = []) {
    if (busy) return;
    setBusy(true);
    try {
      const added = await addItem({ kind: 'action', user: s.session.user.username, photos: withPhotos,
        body: { case_id: task.id, case_number: task.number, action, note: note.trim(),
          purpose: 'resolution', snapshot: snapshotOf(task), ...extra } });
      await reload('items');
      toast(t('desk.saved'), 'ok', { item: added.id });
      setMode(null);
      setPhotos([]);
      setNote('');
      syncAfterSave();
    } catch (err) {
      console.error(err);
      setProblem(t('capture.save_failed'));
    } finally {
      setBusy(false);
    }
  }

  const missing = [];
  if (mode === 'resolve' && !photos.length) missing.push(t('desk.need_after_photo'));
  if ((mode === 'return' || mode === 'request_extension' || mode === 'request_suspension' ||
    mode === 'joint_feedback' || mode === 'request_exclusion') && !note.trim()) missing.push(t('desk.need_note'));
  if (mode === 'request_suspension' && !(reviewOn >= firstReview && reviewOn <= lastReview)) {
    missing.push(t('desk.need_review_on'));
  }
  if (mode === 'request_extension' && !(Number(amount) >= 1)) missing.push(t('desk.need_amount'));

  function submit() {
    if (missing.length) return;
    if (mode === 'resolve') queue('resolve', {}, photos);
    else if (mode === 'return') queue('return', { reason });
    else if (mode === 'joint_feedback') queue('joint_feedback');
    else if (mode === 'request_extension') {
      queue('request_extension', { extension: { amount: Number(amount), unit } });
    } else if (mode === 'request_suspension') {
      queue('request_suspension', { reason_kind: suspendReason, review_on: reviewOn });
    } else if (mode === 'record_contact') {
      // when: now unless told (a local time of this device, sent with its offset)
      const contact = { outcome };
      if (contactedAt) contact.contacted_at = new Date(contactedAt).toISOString();
      queue('record_contact', { contact });
    } else if (mode === 'request_exclusion') {
      queue('request_exclusion', { exclusion: { reason_kind: exclusionReason } });
    }
  }

  return (
    <div class="task-detail">
      <button type="button" class="link" onClick={() => go('desk')}>← {t('desk.title')}</button>
      {shown && (
        <section class="card" data-testid="desk-case">
          <h2>{t('records.case_n', { n: shown.number })} · {cat ? nameOf(cat) : shown.category}</h2>
          {task?.overdue && <p class="tag danger">{t('tasks.overdue')}</p>}
          <p class="small" data-testid="desk-case-status">
            {shown.cell ? nameOf(shown.cell) : t('records.outside_grid')} ·{' '}
            {statusText(task ? task.status : (last?.server?.status || shown.status))}
            {task && <>{' · '}{task.signed_at ? t('desk.signed') : t('desk.not_signed')}</>}</p>
          {shown.due_at && task && <p class="small">{t('tasks.due', { time: formatTime(shown.due_at) })}</p>}
          {task?.suspension?.status === 'pending' && (
            <p class="notice small" data-testid="desk-suspension-pending">
              {t('desk.suspension_pending', { date: task.suspension.review_on,
                reason: t(`suspend.${task.suspension.reason_kind}`) })}</p>
          )}
          {shown.description && <p>{shown.description}</p>}
          <dl class="facts small">
            <dt>{t('desk.address')}</dt>
            <dd data-testid="desk-address">{shown.address || [shown.street, shown.community, shown.cell]
              .filter(Boolean).map((a) => nameOf(a)).join(' ') || '—'}</dd>
            {shown.reporter_name && <><dt>{t('desk.reporter')}</dt><dd data-testid="desk-reporter">{shown.reporter_name}</dd></>}
            {shown.location && <><dt>{t('cmd.position')}</dt>
              <dd>{shown.location.lon.toFixed(6)}, {shown.location.lat.toFixed(6)}
                {shown.location.accuracy_m != null && ` · ±${Math.round(shown.location.accuracy_m)} m`}</dd></>}
          </dl>
          {shown.location && (
            <CaseSpot location={shown.location} cell={shown.cell?.code} />
          )}
          <Directions location={shown.location} label={t('records.case_n', { n: shown.number })} />
          <ul class="photos">
            {(shown.photos || []).map((p, i) => (
              <li key={p.id}><TaskPhoto photo={p} size="display" alt={t('capture.photo_n', { n: i + 1 })} /></li>
            ))}
          </ul>
        </section>
      )}
      {task && <JointFacts joint={task.joint} />}
      {task && (task.notices || []).length > 0 && (
        <section class="card" data-testid="desk-case-notices">
          <h2>{t('notice.title')}</h2>
          {task.notices.map((n) => <NoticeReply key={n.id} n={{ ...n, report_id: task.id }} caseNumber={task.number} />)}
        </section>
      )}
      {mine.length > 0 && (
        <section class="card" data-testid="desk-queue">
          <h2>{t('desk.your_actions')}</h2>
          {mine.map((i) => (
            <div key={i.id} data-testid="desk-item" data-action={i.body.action}>
              <strong class="small">{t(`tasks.${i.body.action}`)}</strong>
              <ItemState item={i} syncing={s.syncing} />
            </div>
          ))}
        </section>
      )}
      {task && actions.length > 0 && !mode && (
        <section class="card actions" aria-label={t('desk.actions')}>
          {actions.includes('report_in') && (
            <button type="button" class="primary big" data-testid="desk-report-in" disabled={busy}
              onClick={() => queue('report_in')}>{t('action.report_in')}</button>
          )}
          {actions.includes('joint_feedback') && (
            <button type="button" class="primary big" data-testid="desk-feedback"
              onClick={() => setMode('joint_feedback')}>{t('action.joint_feedback')}</button>
          )}
          {actions.includes('sign') && (
            <button type="button" class="primary big" data-testid="desk-sign" disabled={busy}
              onClick={() => queue('sign')}>{t('tasks.sign')}</button>
          )}
          {actions.includes('resolve') && (
            <button type="button" class="primary big" data-testid="desk-resolve"
              onClick={() => setMode('resolve')}>{t('tasks.resolve')}</button>
          )}
          {actions.includes('return') && (
            <button type="button" class="danger" data-testid="desk-return"
              onClick={() => setMode('return')}>{t('tasks.return')}</button>
          )}
          {actions.includes('request_extension') && (
            <button type="button" class="secondary" data-testid="desk-extension"
              onClick={() => setMode('request_extension')}>{t('tasks.request_extension')}</button>
          )}
          {actions.includes('record_contact') && (
            <button type="button" class="secondary" data-testid="desk-contact"
              onClick={() => { setContactedAt(''); setMode('record_contact'); }}>{t('tasks.record_contact')}</button>
          )}
          {actions.includes('request_exclusion') && (
            <button type="button" class="secondary" data-testid="desk-exclusion"
              onClick={() => setMode('request_exclusion')}>{t('tasks.request_exclusion')}</button>
          )}
          {actions.includes('request_suspension') && (
            <button type="button" class="secondary" data-testid="desk-suspension"
              onClick={() => { setReviewOn(''); setMode('request_suspension'); }}>
              {t('tasks.request_suspension')}</button>
          )}
        </section>
      )}
      {task && mode && (
        <section class="card stack" aria-labelledby="desk-form-title">
          <h2 id="desk-form-title">{t(`tasks.${mode}`)}</h2>
          {mode === 'resolve' && (
            <>
              <PhotoPicker id="desk-photo" photos={photos} take={t('desk.take_after_photo')} wide
                onFiles={addFiles} onRemove={(pid) => setPhotos(photos.filter((x) => x.id !== pid))}
                inputTestid="desk-photo-input" thumbsTestid="desk-photos" />
            </>
          )}
          {mode === 'return' && (
            <>
              <label for="desk-reason">{t('desk.reason')}</label>
              <select id="desk-reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}
                data-testid="desk-reason">
                {RETURN_REASONS.map((r) => <option value={r}>{t(`reason.${r}`)}</option>)}
              </select>
            </>
          )}
          {mode === 'request_extension' && (
            <div class="row">
              <label for="desk-amount" class="sr-only">{t('desk.amount')}</label>
              <input id="desk-amount" type="number" min="1" max="10000" value={amount}
                onInput={(e) => setAmount(e.currentTarget.value)} data-testid="desk-amount" />
              <label for="desk-unit" class="sr-only">{t('desk.unit')}</label>
              <select id="desk-unit" value={unit} onChange={(e) => setUnit(e.currentTarget.value)}>
                {UNITS.map((u) => <option value={u}>{t(`unit.${u}`)}</option>)}
              </select>
            </div>
          )}
          {mode === 'request_suspension' && (
            <>
              <label for="desk-suspend-reason">{t('desk.suspend_reason')}</label>
              <select id="desk-suspend-reason" value={suspendReason} data-testid="desk-suspend-reason"
                onChange={(e) => setSuspendReason(e.currentTarget.value)}>
                {SUSPENSION_REASONS.map((r) => <option value={r}>{t(`suspend.${r}`)}</option>)}
              </select>
              <label for="desk-review-on">{t('desk.review_on')}</label>
              <input id="desk-review-on" type="date" min={firstReview} max={lastReview} value={reviewOn}
                data-testid="desk-review-on" onInput={(e) => setReviewOn(e.currentTarget.value)}
                onChange={(e) => setReviewOn(e.currentTarget.value)} />
              <p class="small muted">{t('desk.review_on_hint', { from: firstReview, to: lastReview })}</p>
            </>
          )}
          {mode === 'record_contact' && (
            <>
              <label for="desk-contact-outcome">{t('contact.outcome')}</label>
              <select id="desk-contact-outcome" value={outcome} data-testid="desk-contact-outcome"
                onChange={(e) => setOutcome(e.currentTarget.value)}>
                {CONTACT_OUTCOMES.map((o) => <option value={o}>{t(`contact.${o}`)}</option>)}
              </select>
              <label for="desk-contact-at">{t('contact.contacted_at')}</label>
              <input id="desk-contact-at" type="datetime-local" value={contactedAt}
                data-testid="desk-contact-at" onInput={(e) => setContactedAt(e.currentTarget.value)} />
              <p class="small muted">{t('contact.hint')}</p>
            </>
          )}
          {mode === 'request_exclusion' && (
            <>
              <label for="desk-exclusion-reason">{t('exclusion.reason')}</label>
              <select id="desk-exclusion-reason" value={exclusionReason} data-testid="desk-exclusion-reason"
                onChange={(e) => setExclusionReason(e.currentTarget.value)}>
                {EXCLUSION_REASONS.map((r) => <option value={r}>{t(`exclusion.${r}`)}</option>)}
              </select>
            </>
          )}
          <label for="desk-note">{mode === 'resolve' || mode === 'record_contact'
            ? t('desk.note_optional') : t('desk.note_required')}</label>
          <textarea id="desk-note" rows="2" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          {problem && <p class="error" role="alert">{problem}</p>}
          <div class="row">
            <button type="button" class="secondary" onClick={() => setMode(null)}>{t('common.cancel')}</button>
            <button type="button" class="primary big" disabled={missing.length > 0 || busy}
              onClick={submit} data-testid="desk-submit">{t('desk.submit')}</button>
          </div>
          {missing.length > 0 && <p class="muted small">{t('capture.missing', { what: missing.join(t('common.list_sep')) })}</p>}
        </section>
      )}
    </div>
  );
}
