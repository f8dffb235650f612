// My tasks: cases in my cells waiting for my verification (核查), with their photos cached for
// offline viewing. A verification is done offline like a report: after-photo + pass/fail.
import { useState } from 'preact/hooks';
import { ItemState } from '../components/ItemState.jsx';
import { PhotoPicker, usePickedPhotos } from '../components/PhotoPicker.jsx';
import { SyncBar } from '../components/SyncBar.jsx';
import { TaskItem } from '../components/TaskItem.jsx';
import { TaskPhoto } from '../components/TaskPhoto.jsx';
import { useLiveFix } from '../hooks/useLiveFix.js';
import { formatTime, nameOf, statusText, t } from '../i18n/index.js';
import { distanceM } from '../lib/geo.js';
import { addItem } from '../lib/outbox.js';
import { syncAfterSave } from '../syncing.js';
import { go } from '../router.js';
import { reload, toast, useStore } from '../store.js';

const PURPOSES = ['report', 'resolution', 'verification'];

export function Tasks() {
  const s = useStore();
  const pendingFor = new Set(s.items.filter((i) => i.kind === 'action' && i.state !== 'accepted')
    .map((i) => i.body.case_id));
  return (
    <div class="tasks">
      <SyncBar />
      <h2>{t('tasks.title')} <small>({s.tasks.length})</small></h2>
      {s.tasks.length === 0 && <p class="muted" data-testid="tasks-empty">{t('tasks.empty')}</p>}
      <ul class="items" data-testid="task-list">
        {s.tasks.map((task) => {
          return (
            <TaskItem task={task} href={`#/tasks/${task.id}`} key={task.id}>
              {pendingFor.has(task.id) && <span class="tag">{t('tasks.verification_saved')}</span>}
            </TaskItem>
          );
        })}
      </ul>
    </div>
  );
}

export function TaskDetail({ id }) {
  const s = useStore();
  const fix = useLiveFix();
  const task = s.tasks.find((x) => x.id === id);
  const existing = s.items.filter((i) => i.kind === 'action' && i.body.case_id === id)
    .sort((a, b) => b.createdAt - a.createdAt)[0];
  const [result, setResult] = useState(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [photos, setPhotos, addFiles] = usePickedPhotos(setProblem);

  if (!task && !existing) {
    return (
      <div class="card">
        <p>{t('tasks.gone')}</p>
        <button type="button" class="secondary" onClick={() => go('tasks')}>{t('common.back')}</button>
      </div>
    );
  }
  const cat = task && s.categories.find((c) => c.code === task.category);
  const here = fix.fix;
  const dist = task && here && task.location ? distanceM(here, task.location) : null;
  // the server's GRIDSNAP_VERIFY_DISTANCE_M as GET /api/v1 told it (kept offline); unknown: no warning
  const tooFarM = s.server?.limits?.verify_distance_m ?? null;
  const tooFar = dist != null && tooFarM != null && dist > tooFarM;

  async function submit() {
    if (!result || !photos.length || !here || busy) return;
    setBusy(true);
    try {
      const added = await addItem({
        kind: 'action', user: s.session.user.username, photos,
        body: { case_id: task.id, case_number: task.number, action: result, note: note.trim(),
          location: { lon: here.lon, lat: here.lat, accuracy_m: here.accuracy_m } },
      });
      await reload('items');
      toast(t('tasks.saved'), 'ok', { item: added.id });
      syncAfterSave();
    } catch (err) {
      console.error(err);
      setProblem(t('capture.save_failed'));
    } finally {
      setBusy(false);
    }
  }

  const missing = [];
  if (!photos.length) missing.push(t('tasks.need_photo'));
  if (!result) missing.push(t('tasks.need_result'));
  if (!here) missing.push(t('capture.need_location'));
  if (result === 'verify_fail' && !note.trim()) missing.push(t('tasks.need_note'));
  const canRedo = !existing || existing.state === 'rejected';

  return (
    <div class="task-detail">
      <button type="button" class="link" onClick={() => go('tasks')}>← {t('tasks.title')}</button>
      {task && (
        <section class="card">
          <h2>{t('records.case_n', { n: task.number })} · {cat ? nameOf(cat) : task.category}</h2>
          {task.overdue && <p class="tag danger">{t('tasks.overdue')}</p>}
          <p class="small">{task.cell ? nameOf(task.cell) : t('records.outside_grid')} · {statusText(task.status)}</p>
          {task.due_at && <p class="small">{t('tasks.due', { time: formatTime(task.due_at) })}</p>}
          {task.description && <p>{task.description}</p>}
          {dist != null && (
            <p class={tooFar ? 'warn' : 'muted'} data-testid="task-distance" data-too-far={tooFar}>
              {t('tasks.distance', { m: Math.round(dist) })}
              {tooFar && ` — ${t('tasks.too_far', { m: tooFarM })}`}
            </p>
          )}
          {PURPOSES.map((purpose) => {
            const list = (task.photos || []).filter((p) => (p.purpose || 'report') === purpose);
            if (!list.length) return null;
            // before and after side by side in words: which photo is the reporter's, which the handler's
            return (
              <div key={purpose} class="photo-group" data-testid={`task-photos-${purpose}`}>
                <h3 class="small">{t(`purpose.${purpose}`)}</h3>
                <ul class="photos">
                  {list.map((p, i) => (
                    <li key={p.id}><TaskPhoto photo={p} size="display"
                      alt={`${t(`purpose.${purpose}`)} ${t('capture.photo_n', { n: i + 1 })}`} /></li>
                  ))}
                </ul>
              </div>
            );
          })}
        </section>
      )}
      {existing && (
        <section class="card" data-testid="verification-state">
          <h2>{t('tasks.your_verification')}</h2>
          <ItemState item={existing} syncing={s.syncing} />
        </section>
      )}
      {task && canRedo && (
        <section class="card" aria-labelledby="verify-title">
          <h2 id="verify-title">{t('tasks.verify')}</h2>
          <PhotoPicker id="verify-photo" photos={photos} take={t('tasks.take_after_photo')} wide
            onFiles={addFiles} onRemove={(pid) => setPhotos(photos.filter((x) => x.id !== pid))}
            inputTestid="verify-photo-input" />
          <fieldset class="segmented big">
            <legend>{t('tasks.result')}</legend>
            {['verify_pass', 'verify_fail'].map((a) => (
              <label class={result === a ? 'on' : ''}>
                <input type="radio" name="result" value={a} checked={result === a}
                  onChange={() => setResult(a)} data-testid={a} />
                {t(`tasks.${a}`)}
              </label>
            ))}
          </fieldset>
          <label for="verify-note">{result === 'verify_fail' ? t('tasks.note_required') : t('tasks.note')}</label>
          <textarea id="verify-note" rows="2" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          {problem && <p class="error" role="alert">{problem}</p>}
          <button type="button" class="primary big wide" disabled={missing.length > 0 || busy}
            onClick={submit} data-testid="submit-verification">{t('tasks.submit')}</button>
          {missing.length > 0 && <p class="muted small">{t('capture.missing', { what: missing.join(t('common.list_sep')) })}</p>}
        </section>
      )}
    </div>
  );
}
