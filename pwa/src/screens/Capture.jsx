// Capture, photo first: photos → position and cell → category → a few words → save.
import { useEffect, useState } from 'preact/hooks';
import { CategoryPicker } from '../components/CategoryPicker.jsx';
import { Icon } from '../components/Icon.jsx';
import { LocationCard } from '../components/LocationCard.jsx';
import { PhotoPicker, preparePhotos } from '../components/PhotoPicker.jsx';
import { useLiveFix } from '../hooks/useLiveFix.js';
import { formatTime, nameOf, t, tn } from '../i18n/index.js';
import { deleteDraft, draftEditing, emptyDraft, hasContent, loadDraft, openDraft, saveDraft,
  startNewDraft } from '../lib/draft.js';
import { isoWithOffset } from '../lib/ids.js';
import { addItem, getBlob, getItem, replaceRejected } from '../lib/outbox.js';
import { photoFlags } from '../lib/evidence.js';
import { noteCategoryUsed, recentCategories } from '../lib/settings.js';
import { syncAfterSave } from '../syncing.js';
import { go } from '../router.js';
import { reload, toast, useStore } from '../store.js';

const MAX_PHOTOS = 6;

/** Each photo's EXIF time, and a warning when it is older or farther than the deployment allows. */
function PhotoEvidence({ photos, at, location, limits }) {
  const lines = photos.map((p, i) => ({ n: i + 1, f: photoFlags(p.exif, { at, location }, limits) }))
    .filter(({ f }) => f.takenAt);
  if (!lines.length) return null;
  return (
    <ul class="evidence small" data-testid="photo-evidence">
      {lines.map(({ n, f }) => (
        <li key={n} class={f.old || f.far ? 'warn' : 'muted'} data-old={f.old} data-far={f.far}>
          {t('evidence.taken_at', { n, time: formatTime(f.takenAt) })}
          {f.old && ` · ${t('evidence.old', { hours: Math.round(f.ageHours) })}`}
          {f.far && ` · ${t('evidence.far', { m: Math.round(f.distanceM) })}`}
        </li>
      ))}
    </ul>
  );
}
const REFINE_WINDOW_MS = 60 * 1000; // a better fix soon after the first photo replaces the first

export function Capture({ edit }) {
  const s = useStore();
  const fix = useLiveFix();
  const [draft, setDraft] = useState(null);
  const [picking, setPicking] = useState(false);
  const [recent, setRecent] = useState([]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);

  useEffect(() => {
    (async () => {
      let d = await loadDraft();
      if (edit && d.editOf !== edit) {
        // the correction begun earlier, if any; the draft open until now stays saved
        const begun = await draftEditing(edit);
        const item = begun ? null : await getItem(edit);
        if (begun) {
          await openDraft(begun.id);
          d = { ...emptyDraft(begun.id), ...begun };
        } else if (item && item.state === 'rejected' && !item.server) {
          const photos = [];
          for (const p of item.photos) {
            photos.push({ id: p.id, blob: await getBlob(p.id), width: p.width, height: p.height,
              exif: p.exif || null });
          }
          d = { ...emptyDraft(), editOf: item.id, photos: photos.filter((p) => p.blob),
            category: item.body.category, description: item.body.description || '',
            capturedAt: item.body.captured_at, location: item.body.location };
          await saveDraft(d);
          await openDraft(d.id);
        }
      }
      setDraft(d);
      setRecent(await recentCategories());
    })();
  }, [edit]);

  // the position of the capture: the fix when the first photo was taken, refined for a minute
  useEffect(() => {
    if (!draft || !fix.fix || draft.location?.source === 'manual' || draft.editOf) return;
    const f = fix.fix;
    const loc = { lon: f.lon, lat: f.lat, accuracy_m: f.accuracy_m, source: f.source };
    if (!draft.capturedAt) return;
    const age = Date.now() - Date.parse(draft.capturedAt);
    if (!draft.location || (age < REFINE_WINDOW_MS && f.accuracy_m < draft.location.accuracy_m)) {
      update({ location: loc });
    }
  }, [fix.fix, draft?.capturedAt]);

  if (!draft) return <p class="loading">{t('common.loading')}</p>;

  // changes: an object, or a function of the draft as it is by then (a photo decoded while the
  // worker kept the draft for later belongs to the next one, which has none of the old photos)
  function update(changes) {
    setDraft((d) => {
      const next = { ...d, ...(typeof changes === 'function' ? changes(d) : changes) };
      saveDraft(next);
      return next;
    });
  }

  async function addFiles(files) {
    setProblem(null);
    const first = !draft.photos.length;
    const added = await preparePhotos(files, MAX_PHOTOS - draft.photos.length, setProblem);
    if (!added.length) return;
    // the first photo pushes the category down under the Save bar: bring it up, above the bar
    if (first && !draft.category) {
      requestAnimationFrame(() => document.getElementById('category-card')
        ?.scrollIntoView({ block: 'nearest' }));
    }
    update((d) => {
      const changes = { photos: [...d.photos, ...added].slice(0, MAX_PHOTOS) };
      if (!d.capturedAt) {
        changes.capturedAt = isoWithOffset(new Date());
        if (fix.fix && d.location?.source !== 'manual') {
          const f = fix.fix;
          changes.location = { lon: f.lon, lat: f.lat, accuracy_m: f.accuracy_m, source: f.source };
        }
      }
      return changes;
    });
  }

  const location = draft.location || (fix.fix && {
    lon: fix.fix.lon, lat: fix.fix.lat, accuracy_m: fix.fix.accuracy_m, source: fix.fix.source });
  const category = s.categories.find((c) => c.code === draft.category);
  const missing = [];
  if (!draft.photos.length) missing.push(t('capture.need_photo'));
  if (!location) missing.push(t('capture.need_location'));
  if (!category) missing.push(t('capture.need_category'));

  async function save() {
    if (missing.length || busy) return;
    setBusy(true);
    try {
      const body = {
        category: draft.category,
        description: draft.description.trim(),
        location: { lon: location.lon, lat: location.lat,
          accuracy_m: location.accuracy_m ?? null, source: location.source },
        captured_at: draft.capturedAt || isoWithOffset(new Date()),
      };
      const photos = draft.photos.map((p) => ({ id: p.id, blob: p.blob, width: p.width, height: p.height,
        exif: p.exif || null }));
      const old = draft.editOf ? await getItem(draft.editOf) : null;
      const added = old && old.state === 'rejected' && !old.server
        ? await replaceRejected(old, { body, photos })
        : await addItem({ kind: 'report', user: s.session.user.username, body, photos });
      await noteCategoryUsed(draft.category);
      await deleteDraft(draft.id); // finished: it is in the outbox now
      setDraft(await startNewDraft());
      setRecent(await recentCategories());
      await reload('items');
      toast(t('capture.saved'), 'ok', { item: added.id });
      if (edit) go('records');
      syncAfterSave();
    } catch (err) {
      console.error(err);
      setProblem(t('capture.save_failed'));
    } finally {
      setBusy(false);
    }
  }

  async function discard() {
    if (!window.confirm(t('capture.discard_confirm'))) return;
    await deleteDraft(draft.id);
    setDraft(await startNewDraft());
    if (edit) go('records');
  }

  // this one stays among the saved drafts, to be finished later; an empty form for the next
  async function keepForLater() {
    await saveDraft(draft);
    setDraft(await startNewDraft());
    toast(t('drafts.kept'), 'ok');
    if (edit) go('capture');
  }

  const others = s.drafts.filter((d) => d.id !== draft.id).length;

  return (
    <div class="capture">
      {others > 0 && (
        <a class="button secondary drafts-link" href="#/drafts" data-testid="drafts-link">
          <Icon name="outbox" /> {tn('drafts.saved_n', others)}</a>
      )}
      {draft.editOf && <p class="notice" data-testid="editing">{t('capture.editing')}</p>}
      <section class="card" aria-labelledby="photos-title">
        <h2 id="photos-title">{t('capture.photos')} <small>({draft.photos.length}/{MAX_PHOTOS})</small></h2>
        <PhotoPicker id="camera-input" galleryId="gallery-input" photos={draft.photos} max={MAX_PHOTOS}
          take={t('capture.take_photo')} gallery={t('capture.from_gallery')} onFiles={addFiles}
          onRemove={(id) => update({ photos: draft.photos.filter((x) => x.id !== id) })}
          inputTestid="camera-input" galleryTestid="gallery-input" thumbsTestid="draft-photos" />
        <PhotoEvidence photos={draft.photos} at={draft.capturedAt} location={location}
          limits={s.server?.evidence} />
        {draft.capturedAt && <p class="muted small">{t('capture.captured_at', { time: formatTime(draft.capturedAt) })}</p>}
      </section>

      <LocationCard location={location} fixError={fix.error} cells={s.cells} cellsNote={s.cellsNote}
        warnM={s.settings.accuracyWarnM} onPickOnMap={() => go(`map?pick=${edit ? `edit:${edit}` : 'capture'}`)} />

      <section class="card category-card" aria-labelledby="cat-label" id="category-card">
        <h2 id="cat-label">{t('capture.category')}</h2>
        <button type="button" class={`select ${category ? '' : 'empty'}`} onClick={() => setPicking(true)}
          data-testid="category-button" aria-describedby="cat-label">
          {category ? `${nameOf(category)} · ${category.code}` : t('capture.choose_category')}
        </button>
        {recent.length > 0 && !category && (
          <div class="chips" aria-label={t('category.recent')}>
            {recent.slice(0, 3).map((code) => s.categories.find((c) => c.code === code)).filter(Boolean).map((c) => (
              <button type="button" class="chip" onClick={() => update({ category: c.code })}>{nameOf(c)}</button>
            ))}
          </div>
        )}
      </section>

      <section class="card">
        <label for="description"><h2>{t('capture.description')}</h2></label>
        <textarea id="description" rows="3" maxLength={2000} placeholder={t('capture.description_hint')}
          value={draft.description} onInput={(e) => update({ description: e.currentTarget.value })} />
      </section>

      {problem && <p class="error" role="alert">{problem}</p>}
      {!missing.length && <p id="save-hint" class="muted small">{t('capture.save_hint')}</p>}
      {/* one row, about 70 px: a taller block hid the category chips behind it */}
      {hasContent(draft) && (
        <div class="row discard-row">
          <button type="button" class="link" onClick={discard}>{t('capture.discard')}</button>
        </div>
      )}
      <div class="actions sticky" data-testid="save-block">
        {/* why Save is grey, next to it: the bar never hides the reason */}
        {missing.length > 0 && (
          <p id="save-hint" class="save-reason small" data-testid="save-reason">
            {t('capture.missing', { what: missing.join(t('common.list_sep')) })}</p>
        )}
        <div class="save-row">
          {hasContent(draft) && (
            <button type="button" class="secondary" onClick={keepForLater} data-testid="keep-draft">
              {t('drafts.keep')}</button>
          )}
          <button type="button" class="primary big wide" onClick={save} disabled={missing.length > 0 || busy}
            data-testid="save-report" aria-describedby="save-hint">
            {t('capture.save')}
          </button>
        </div>
      </div>

      {picking && (
        <CategoryPicker categories={s.categories} recent={recent}
          onPick={(c) => { update({ category: c.code }); setPicking(false); }}
          onClose={() => setPicking(false)} />
      )}
    </div>
  );
}
