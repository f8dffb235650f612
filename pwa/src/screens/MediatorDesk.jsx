// The mediator's desk (人民调解员): the disputes of the community I mediate — to accept (受理),
// being mediated, to visit after an agreement (回访) — each by the deadline it waits on; a
// dispute with its facts, parties (masked; unmasked on request when online, on its trail), its
// trail and the next step: a session (调解: date, participants, notes), the agreement (达成协议),
// a transfer when mediation fails (转交: to whom, why), the follow-up visit. Every step is queued
// in the outbox first and sent under the phone's id (client_step_id), so it works with no signal;
// the agreement may carry photos of the signed paper (人民调解协议书), kept on the phone and sent
// after the step, shown on the dispute as thumbnails (also offline).
// The grid worker sees the same dispute page, read-only, for the disputes they reported (their
// list: components/DisputeRow.jsx, under the dispute form).
import { useEffect, useState } from 'preact/hooks';
import { BlobImage } from '../components/BlobImage.jsx';
import { DisputeRow, disputeStatus, dueLine } from '../components/DisputeRow.jsx';
import { ItemState } from '../components/ItemState.jsx';
import { PhotoPicker, usePickedPhotos } from '../components/PhotoPicker.jsx';
import { formatTime, t } from '../i18n/index.js';
import { ApiError, request } from '../lib/api.js';
import {
  STEPS, TRANSFER_BODIES, agreementPhotoBlob, groupDisputes, localDispute, queuedAgreementPhotos,
} from '../lib/disputes.js';
import { addItem, getBlob } from '../lib/outbox.js';
import { dayOf } from '../lib/zone.js';
import { syncAfterSave } from '../syncing.js';
import { go } from '../router.js';
import { reload, toast, useStore } from '../store.js';

export function MediatorDesk() {
  const s = useStore();
  const disputes = s.disputes.map((d) => localDispute(d, s.items));
  const groups = groupDisputes(disputes);
  const [showDone, setShowDone] = useState(false);
  return (
    <div class="tasks" data-testid="mediator-desk">
      <h2>{t('mediate.title')}</h2>
      <p class="hint">{t('dispute.confidential')}</p>
      {disputes.length === 0 && <p class="muted" data-testid="mediate-empty">{t('mediate.empty')}</p>}
      {groups.map(([name, list]) => (
        <section aria-labelledby={`mediate-${name}`} data-testid={`mediate-group-${name}`}>
          <h3 id={`mediate-${name}`}>{t(`mediate.group_${name}`)} <small>({list.length})</small>
            {name === 'done' && (
              <button type="button" class="link" onClick={() => setShowDone(!showDone)}>
                {showDone ? t('mediate.hide') : t('mediate.show')}</button>)}
          </h3>
          {(name !== 'done' || showDone) && (
            <ul class="items">{list.map((d) => <DisputeRow d={d} base="mediate" />)}</ul>)}
        </section>
      ))}
    </div>
  );
}

function stepLine(step) {
  const d = step.data || {};
  const parts = [];
  if (d.held_on) parts.push(`${d.held_on} · ${(d.participants || []).join(t('common.list_sep'))}`);
  if (d.notes) parts.push(d.notes);
  if (d.body) parts.push(`${t(`dispute.transfer_${d.to}`)} · ${d.body}`);
  if (d.visited_on) parts.push(`${d.visited_on} · ${t(d.holds ? 'dispute.holds' : 'dispute.holds_not')}`);
  if (d.on_time === false) parts.push(t('dispute.agreed_late'));
  if (d.photo_id) parts.push(`${d.width} × ${d.height}`);
  if (step.note) parts.push(step.note);
  return parts.join(' · ');
}

/** The parties: masked as kept on the phone; unmasked on request, online, on the trail. */
function Parties({ d, session }) {
  const [shown, setShown] = useState(null);
  const [problem, setProblem] = useState(null);
  async function unmask() {
    setProblem(null);
    try {
      const { data } = await request(`disputes/${d.id}?unmasked=true`, { token: session.token });
      setShown(data.parties);
    } catch (err) {
      setProblem(err instanceof ApiError ? err.message : t('mediate.unmask_offline'));
    }
  }
  const parties = shown || d.parties || [];
  return (
    <>
      <ul class="small" data-testid="dispute-parties">
        {parties.map((p) => <li>{p.name}{p.phone ? ` · ${p.phone}` : ''}</li>)}
      </ul>
      {d.may_unmask && !shown && (
        <button type="button" class="link" data-testid="dispute-unmask" onClick={unmask}>
          {t('mediate.unmask')}</button>)}
      {problem && <p class="error small" role="alert">{problem}</p>}
    </>
  );
}

// pages of the signed agreement a phone sends with the step (the server keeps up to 10)
const AGREEMENT_PHOTOS_MAX = 3;

/** A photo of the signed agreement: the bytes on the phone (sent, or still in the outbox). */
function AgreementThumb({ id, queued, n }) {
  const [blob, setBlob] = useState(null);
  const s = useStore();
  useEffect(() => {
    let live = true;
    (queued ? getBlob(id) : agreementPhotoBlob(id)).then((b) => live && setBlob(b || null));
    return () => { live = false; };
  }, [id, queued, s.disputes, s.items]);
  const alt = t('mediate.agreement_photo_n', { n });
  if (!blob) {
    return <span class="img-placeholder" role="img" aria-label={t('mediate.photo_not_cached')} />;
  }
  return <BlobImage blob={blob} alt={alt} />;
}

/** The photos of the signed agreement: those the server has, then those waiting to be sent. */
function AgreementPhotos({ d, items }) {
  const sent = d.agreement_photos || [];
  const known = new Set(sent.map((p) => p.id));
  const queued = queuedAgreementPhotos(d, items).filter((p) => !known.has(p.id));
  if (!sent.length && !queued.length) return null;
  return (
    <>
      <h3>{t('mediate.agreement_photos')}</h3>
      <ul class="thumbs" data-testid="agreement-photos">
        {sent.map((p, i) => (
          <li key={p.id} data-testid="agreement-photo" data-state="sent">
            <AgreementThumb id={p.id} n={i + 1} /></li>))}
        {queued.map((p, i) => (
          <li key={p.id} data-testid="agreement-photo" data-state="queued">
            <AgreementThumb id={p.id} queued n={sent.length + i + 1} />
            <span class="small muted">{t('mediate.photo_waiting')}</span></li>))}
      </ul>
    </>
  );
}

const EMPTY_FORM = { note: '', held_on: '', participants: '', notes: '', agreement: '',
  to: 'police', body: '', visited_on: '', holds: true };

/** The form of one step; the step is queued in the outbox. */
function StepForm({ d, step, onDone }) {
  const s = useStore();
  const today = dayOf(Date.now());
  const [f, setF] = useState({ ...EMPTY_FORM, held_on: today, visited_on: today });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [photos, setPhotos, addFiles] = usePickedPhotos(setProblem, AGREEMENT_PHOTOS_MAX);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.type === 'checkbox'
    ? e.currentTarget.checked : e.currentTarget.value });
  const participants = f.participants.split(/[,，、\n]/).map((x) => x.trim()).filter(Boolean);
  const missing = [];
  if (step === 'hold_session' && !participants.length) missing.push(t('mediate.participants'));
  if (step === 'hold_session' && !f.held_on) missing.push(t('mediate.held_on'));
  if (step === 'agree' && !f.agreement.trim()) missing.push(t('mediate.agreement'));
  if (step === 'transfer' && !f.body.trim()) missing.push(t('mediate.transfer_body'));
  if (STEPS[step].needsNote && !f.note.trim()) missing.push(t('mediate.note'));
  if (step === 'follow_up' && !f.visited_on) missing.push(t('mediate.visited_on'));

  async function submit() {
    if (missing.length || busy) return;
    setBusy(true);
    try {
      const body = { dispute_id: d.id, number: d.number, step, note: f.note.trim() || null };
      if (step === 'hold_session') {
        body.session = { held_on: f.held_on, participants, notes: f.notes.trim() };
      }
      if (step === 'agree') body.agreement = f.agreement.trim();
      if (step === 'transfer') body.transfer = { to: f.to, body: f.body.trim() };
      if (step === 'follow_up') {
        body.follow_up = { visited_on: f.visited_on, holds: !!f.holds, notes: f.notes.trim() };
      }
      const added = await addItem({ kind: 'dispute_step', user: s.session.user.username, body,
        photos: step === 'agree' ? photos : [] });
      await reload('items');
      toast(t('desk.saved'), 'ok', { item: added.id });
      onDone();
      syncAfterSave();
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card stack" aria-labelledby="step-form-title" data-testid="step-form">
      <h2 id="step-form-title">{t(`mediate.step_${step}`)}</h2>
      {step === 'hold_session' && (
        <>
          <label for="m-held-on">{t('mediate.held_on')}</label>
          <input id="m-held-on" type="date" max={today} value={f.held_on} onInput={set('held_on')}
            onChange={set('held_on')} data-testid="m-held-on" />
          <label for="m-participants">{t('mediate.participants')}</label>
          <textarea id="m-participants" rows="2" value={f.participants} data-testid="m-participants"
            placeholder={t('mediate.participants_hint')} onInput={set('participants')} />
          <label for="m-notes">{t('mediate.session_notes')}</label>
          <textarea id="m-notes" rows="3" value={f.notes} onInput={set('notes')} data-testid="m-notes" />
        </>
      )}
      {step === 'agree' && (
        <>
          <label for="m-agreement">{t('mediate.agreement')}</label>
          <textarea id="m-agreement" rows="3" value={f.agreement} maxLength={4000}
            onInput={set('agreement')} data-testid="m-agreement" />
          <p class="small muted">{t('mediate.agreement_photo_hint')}</p>
          <PhotoPicker id="m-agreement-photo" photos={photos} max={AGREEMENT_PHOTOS_MAX}
            take={t('mediate.agreement_photo')} wide onFiles={addFiles}
            onRemove={(pid) => setPhotos(photos.filter((x) => x.id !== pid))}
            inputTestid="m-agreement-photo-input" thumbsTestid="m-agreement-photos" />
          {problem && <p class="error small" role="alert">{problem}</p>}
        </>
      )}
      {step === 'transfer' && (
        <>
          <label for="m-to">{t('mediate.transfer_to')}</label>
          <select id="m-to" value={f.to} onChange={set('to')} data-testid="m-to">
            {TRANSFER_BODIES.map((b) => <option value={b}>{t(`dispute.transfer_${b}`)}</option>)}
          </select>
          <label for="m-body">{t('mediate.transfer_body')}</label>
          <input id="m-body" type="text" maxLength={200} value={f.body} onInput={set('body')}
            data-testid="m-body" />
        </>
      )}
      {step === 'follow_up' && (
        <>
          <label for="m-visited-on">{t('mediate.visited_on')}</label>
          <input id="m-visited-on" type="date" max={today} value={f.visited_on}
            onInput={set('visited_on')} onChange={set('visited_on')} data-testid="m-visited-on" />
          <label class="row"><input type="checkbox" checked={f.holds} onChange={set('holds')}
            data-testid="m-holds" /> {t('dispute.holds')}</label>
          <label for="m-notes">{t('mediate.visit_notes')}</label>
          <textarea id="m-notes" rows="2" value={f.notes} onInput={set('notes')} />
        </>
      )}
      <label for="m-note">{STEPS[step].needsNote ? t('mediate.note') : t('desk.note_optional')}</label>
      <textarea id="m-note" rows="2" value={f.note} onInput={set('note')} data-testid="m-note" />
      <div class="row">
        <button type="button" class="secondary" onClick={onDone}>{t('common.cancel')}</button>
        <button type="button" class="primary big" disabled={missing.length > 0 || busy}
          onClick={submit} data-testid="step-submit">{t('desk.submit')}</button>
      </div>
      {missing.length > 0 && <p class="muted small">{t('capture.missing', { what: missing.join(t('common.list_sep')) })}</p>}
    </section>
  );
}

/** One dispute: its facts, parties, trail, the steps waiting to be sent and the next step. */
export function DisputeDetail({ id, base }) {
  const s = useStore();
  const [step, setStep] = useState(null);
  const stored = s.disputes.find((d) => d.id === id);
  if (!stored) {
    return (
      <div class="card">
        <p>{t('mediate.not_here')}</p>
        <button type="button" class="secondary" onClick={() => go(base)}>{t('common.back')}</button>
      </div>
    );
  }
  const d = localDispute(stored, s.items);
  const sentSteps = s.items.filter((i) => i.kind === 'dispute_step' && i.body.dispute_id === id &&
    i.state !== 'accepted');
  return (
    <div class="task-detail" data-testid="dispute-detail">
      <button type="button" class="link" onClick={() => go(base)}>
        ← {t(base === 'mediate' ? 'mediate.title' : 'dispute.title')}</button>
      <section class="card">
        <h2>{t('dispute.number', { n: d.number })} · {t(`dispute.kind_${d.kind}`)}</h2>
        <p class="small">
          <span class={`tag ${d.risk === 'may_escalate' ? 'danger' : ''}`}>{t(`dispute.risk_${d.risk}`)}</span>{' '}
          <strong data-testid="dispute-detail-status">{disputeStatus(d.status)}</strong>
          {d.escalated_at && <> · <span class="warn-text">{t('dispute.escalated')}</span></>}
        </p>
        <p class="small">{dueLine(d)}</p>
        {d.description && <p>{d.description}</p>}
        <dl class="facts small">
          <dt>{t('desk.address')}</dt><dd>{[d.area_name, d.address].filter(Boolean).join(' ') || '—'}</dd>
          <dt>{t('desk.reporter')}</dt><dd>{d.reporter_name}</dd>
          <dt>{t('mediate.received')}</dt><dd>{formatTime(d.received_at)}</dd>
          {d.agreement && <><dt>{t('mediate.agreement')}</dt><dd data-testid="dispute-agreement">{d.agreement}</dd></>}
          {d.transferred_to && <><dt>{t('mediate.transfer_to')}</dt>
            <dd>{t(`dispute.transfer_${d.transferred_to}`)} · {d.transferred_body}</dd></>}
        </dl>
        <h3>{t('mediate.parties')}</h3>
        <Parties d={d} session={s.session} />
        <AgreementPhotos d={d} items={s.items} />
      </section>
      {(d.steps || []).length > 0 && (
        <section class="card" data-testid="dispute-trail">
          <h2>{t('mediate.trail')}</h2>
          <ol class="small">
            {d.steps.filter((x) => x.action !== 'dispute.parties_viewed').map((x) => (
              <li data-action={x.action}>
                <strong>{t(`dispute.event_${x.action.replace('dispute.', '')}`)}</strong>
                {' · '}{formatTime(x.at)}{x.actor_name ? ` · ${x.actor_name}` : ''}
                {stepLine(x) && <div class="muted">{stepLine(x)}</div>}
              </li>
            ))}
          </ol>
        </section>
      )}
      {sentSteps.length > 0 && (
        <section class="card" data-testid="dispute-queue">
          <h2>{t('desk.your_actions')}</h2>
          {sentSteps.map((i) => (
            <div data-testid="step-item" data-step={i.body.step}>
              <strong class="small">{t(`mediate.step_${i.body.step}`)}</strong>
              <ItemState item={i} syncing={s.syncing} />
            </div>
          ))}
        </section>
      )}
      {d.allowed_steps.length > 0 && !step && (
        <section class="card actions" aria-label={t('desk.actions')}>
          {d.allowed_steps.map((name) => (
            <button type="button" class={name === 'transfer' ? 'secondary' : 'primary big'}
              data-testid={`step-${name}`} onClick={() => setStep(name)}>
              {t(`mediate.step_${name}`)}</button>
          ))}
        </section>
      )}
      {step && <StepForm d={d} step={step} onDone={() => setStep(null)} />}
    </div>
  );
}
