// 吹哨报到 and 督办 in the command centre: the whistle form (a lead department and up to eight
// co-departments), a joint case's departments with their report-in (报到) and feedback, the
// notice form and a case's notices; and the 督办 list (GET /notices) with its state filter.
import { useEffect, useState } from 'preact/hooks';
import { reasonText } from '../components/ItemState.jsx';
import { formatTime, nameOf, t } from '../i18n/index.js';
import { ApiError } from '../lib/api.js';
import { call, departmentsOf } from './api.js';
import { useLive } from './live.js';
import { useStore } from '../store.js';

/** cases/rules.py MAX_CO_DEPARTMENTS */
export const MAX_CO = 8;

/** A department's name in the UI's language, from a row carrying name/name_en or a code. */
export function deptLabel(departments, code, row) {
  if (row && row.name) return nameOf(row);
  const d = departments.find((x) => x.code === code);
  return d ? nameOf(d) : code;
}

export function WhistleForm({ c, departments, busy, onCancel, onSubmit }) {
  const [lead, setLead] = useState(c.department || c.suggested_department || departments[0]?.code || '');
  const [co, setCo] = useState([]);
  const [note, setNote] = useState('');
  const coList = co.filter((d) => d !== lead);
  const problem = !lead ? t('joint.need_lead')
    : coList.length === 0 ? t('joint.need_co')
      : coList.length > MAX_CO ? t('joint.too_many', { n: MAX_CO })
        : !note.trim() ? t('desk.need_note') : null;
  const toggle = (code) => setCo(co.includes(code) ? co.filter((x) => x !== code) : [...co, code]);
  return (
    <div class="card stack" data-testid="whistle-form">
      <strong>{t('action.whistle')}</strong>
      <p class="small muted">{t('joint.explain')}</p>
      <label for="whistle-lead">{t('joint.lead')}</label>
      <select id="whistle-lead" value={lead} data-testid="whistle-lead"
        onChange={(e) => setLead(e.currentTarget.value)}>
        {departments.map((d) => <option value={d.code}>{nameOf(d)}</option>)}
      </select>
      <fieldset class="stack" data-testid="whistle-co">
        <legend>{t('joint.co', { n: MAX_CO })}</legend>
        {departments.filter((d) => d.code !== lead).map((d) => (
          <label class="row" key={d.code}>
            <input type="checkbox" value={d.code} checked={co.includes(d.code)}
              data-testid={`whistle-co-${d.code}`} onChange={() => toggle(d.code)} />
            <span>{nameOf(d)}</span>
          </label>
        ))}
      </fieldset>
      <label for="whistle-note">{t('desk.note_required')}</label>
      <textarea id="whistle-note" rows="2" value={note} data-testid="whistle-note"
        onInput={(e) => setNote(e.currentTarget.value)} />
      {problem && <p class="small muted" data-testid="whistle-problem">{problem}</p>}
      <div class="row">
        <button type="button" class="secondary" onClick={onCancel}>{t('common.cancel')}</button>
        <button type="button" class="primary" data-testid="whistle-confirm" disabled={busy || !!problem}
          onClick={() => onSubmit({ lead_department: lead, co_departments: coList, note: note.trim() })}>
          {t('action.whistle')}</button>
      </div>
    </div>
  );
}

/** The departments a notice may go to: those of the case (dispatched, responsible, summoned). */
function caseDepartments(c) {
  const out = [c.department, c.responsible_department, ...(c.joint ? [c.joint.lead, ...c.joint.co] : [])];
  return [...new Set(out.filter(Boolean))];
}

/** The grounds a notice (督办) names on a case that is not its own ground (cases/rules.py
 * NOTICE_GROUNDS); an overdue or twice handed-back case is its own ground (''). */
export const NOTICE_GROUNDS = ['leader_instruction', 'media_exposure', 'repeated_complaints', 'other'];

export function NoticeForm({ c, departments, busy, onCancel, onSubmit }) {
  const choices = caseDepartments(c);
  const [department, setDepartment] = useState(choices[0] || '');
  const [note, setNote] = useState('');
  const [ground, setGround] = useState(c.notice_due ? '' : NOTICE_GROUNDS[0]);
  return (
    <div class="card stack" data-testid="notice-form">
      <strong>{t('action.issue_notice')}</strong>
      <p class="small muted">{t('notice.explain')}</p>
      {choices.length > 0 && (
        <>
          <label for="notice-dept">{t('cmd.department')}</label>
          <select id="notice-dept" value={department} data-testid="notice-department"
            onChange={(e) => setDepartment(e.currentTarget.value)}>
            {choices.map((code) => <option value={code}>{deptLabel(departments, code)}</option>)}
          </select>
        </>
      )}
      <label for="notice-ground">{t('notice.ground')}</label>
      <select id="notice-ground" value={ground} data-testid="notice-ground"
        onChange={(e) => setGround(e.currentTarget.value)}>
        {c.notice_due && <option value="">{t('notice.ground_own')}</option>}
        {NOTICE_GROUNDS.map((g) => <option value={g}>{t(`ground.${g}`)}</option>)}
      </select>
      <label for="notice-note">{t('desk.note_required')}</label>
      <textarea id="notice-note" rows="2" value={note} data-testid="notice-note"
        onInput={(e) => setNote(e.currentTarget.value)} />
      <div class="row">
        <button type="button" class="secondary" onClick={onCancel}>{t('common.cancel')}</button>
        <button type="button" class="primary" data-testid="notice-confirm" disabled={busy || !note.trim()}
          onClick={() => onSubmit({ ...(department ? { department } : {}), ...(ground ? { ground } : {}),
            note: note.trim() })}>
          {t('action.issue_notice')}</button>
      </div>
    </div>
  );
}

/** Report-in state of one summoned department, in words. */
export function reportInText(p) {
  if (p.reported_in_at) {
    return t(p.late ? 'joint.reported_late' : 'joint.reported_on_time', { time: formatTime(p.reported_in_at) });
  }
  return t(p.report_in_overdue ? 'joint.not_reported_overdue' : 'joint.not_reported', { time: formatTime(p.report_due_at) });
}

export function JointBlock({ joint, departments }) {
  if (!joint) return null;
  return (
    <section data-testid="joint">
      <h3>{t('joint.title')}</h3>
      <table class="small joint-table">
        <thead><tr><th scope="col">{t('cmd.department')}</th><th scope="col">{t('joint.role')}</th>
          <th scope="col">{t('joint.report_in')}</th><th scope="col">{t('joint.feedback')}</th></tr></thead>
        <tbody>
          {joint.participants.map((p) => (
            <tr key={p.department} data-testid="joint-participant" data-department={p.department}
              data-reported={p.reported_in_at ? 'yes' : 'no'} data-late={String(p.late)}>
              <td>{deptLabel(departments, p.department, p)}</td>
              <td>{t(`joint.role_${p.role}`)}</td>
              <td class={p.late || p.report_in_overdue ? 'warn-text' : ''}>{reportInText(p)}
                {p.reported_in_by && <span class="muted"> · {p.reported_in_by}</span>}</td>
              <td>{p.role === 'lead' ? '—' : (p.fed_back_at
                ? <>{p.feedback} <span class="muted">· {formatTime(p.fed_back_at)}</span></>
                : t('joint.no_feedback'))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function noticeStateText(n) {
  if (n.state === 'replied') return t(n.late ? 'notice.replied_late' : 'notice.replied_on_time', { time: formatTime(n.replied_at) });
  return t(n.state === 'overdue' ? 'notice.overdue' : 'notice.open', { time: formatTime(n.reply_due_at) });
}

export function NoticeItems({ notices, departments, withCase = false, onOpen, children }) {
  return (
    <ul class="items" data-testid="notice-list">
      {notices.map((n) => (
        <li class="item" key={n.id} data-testid="notice" data-state={n.state}>
          <div class="item-head">
            <strong>{withCase && `${t('records.case_n', { n: n.number })} · `}{deptLabel(departments, n.department_code, n)}</strong>
            <small>{formatTime(n.issued_at)} · {n.issued_by}</small>
          </div>
          <p class="small">{n.ground && <span class="tag" data-testid="notice-ground-tag">{t(`ground.${n.ground}`)}</span>}{' '}{n.note}</p>
          <p class={`small ${n.state === 'overdue' || n.late ? 'warn-text' : 'muted'}`} data-testid="notice-state">
            {noticeStateText(n)}</p>
          {n.reply && <p class="small">{t('notice.reply')}: {n.reply}{n.replied_by && <span class="muted"> · {n.replied_by}</span>}</p>}
          {withCase && onOpen && <button type="button" class="link" onClick={() => onOpen(n.report_id)}>{t('cmd.open_case')}</button>}
          {children && children(n)}
        </li>
      ))}
    </ul>
  );
}

export function NoticeBlock({ notices, departments }) {
  if (!notices || !notices.length) return null;
  return (
    <section data-testid="case-notices">
      <h3>{t('notice.title')}</h3>
      <NoticeItems notices={notices} departments={departments} />
    </section>
  );
}

const STATES = ['', 'open', 'overdue', 'replied'];

/** The 督办 tab: notices on the cases in my scope, newest first. */
export function Notices({ onOpen }) {
  const s = useStore();
  const lv = useLive();
  const [state, setState] = useState('');
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const departments = departmentsOf(s.categories);
  useEffect(() => {
    let on = true;
    call(`notices?page_size=200${state ? `&state=${state}` : ''}`)
      .then(({ data }) => { if (on) { setList(data || []); setError(null); } })
      .catch((err) => on && setError(err instanceof ApiError ? reasonText(err) : t('cmd.offline')));
    return () => { on = false; };
  }, [state, lv.changed]);
  return (
    <div class="card cmd-narrow" data-testid="notices">
      <h2>{t('notice.title')}</h2>
      <label for="notice-state">{t('notice.state')}</label>
      <select id="notice-state" value={state} onChange={(e) => setState(e.currentTarget.value)}
        data-testid="notice-state-filter">
        {STATES.map((st) => <option value={st}>{t(`notice.state_${st || 'all'}`)}</option>)}
      </select>
      {error && <p class="error" role="alert">{error}</p>}
      {list && list.length === 0 && <p class="muted">{t('notice.none')}</p>}
      {list && <NoticeItems notices={list} departments={departments} withCase onOpen={onOpen} />}
    </div>
  );
}
