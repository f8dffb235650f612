// Saved drafts (草稿): the unfinished reports on this phone, the last changed first. Each can be
// reopened on the capture screen, finished there and saved to the outbox, or deleted. They live in
// IndexedDB, so they are listed offline and after a reload.
import { BlobImage } from '../components/BlobImage.jsx';
import { formatTime, nameOf, t, tn } from '../i18n/index.js';
import { deleteDraft, openDraft, startNewDraft } from '../lib/draft.js';
import { locateCell } from '../lib/grid.js';
import { go } from '../router.js';
import { toast, useStore } from '../store.js';

function DraftItem({ draft, categories, cells }) {
  const cat = categories.find((c) => c.code === draft.category);
  const cell = draft.location ? locateCell(cells, draft.location.lon, draft.location.lat) : null;
  const title = cat ? nameOf(cat) : t('drafts.no_category');
  const parts = [tn('records.photos_n', draft.photos.length)];
  if (cell) parts.push(nameOf(cell));
  else if (!draft.location) parts.push(t('drafts.no_place'));
  async function reopen() {
    await openDraft(draft.id);
    go(draft.editOf ? `capture?edit=${draft.editOf}` : 'capture');
  }
  async function remove() {
    if (!window.confirm(t('drafts.delete_confirm'))) return;
    await deleteDraft(draft.id);
    toast(t('drafts.deleted'), 'ok');
  }
  return (
    <li class="item draft" data-testid="draft-item" data-id={draft.id}>
      <div class="draft-body">
        {draft.photos[0]
          ? <BlobImage blob={draft.photos[0].blob} alt={t('capture.photo_n', { n: 1 })} />
          : <span class="img-placeholder" aria-hidden="true" />}
        <div>
          <div class="item-head">
            <strong>{title}</strong>
            <small>{formatTime(draft.updatedAt)}</small>
          </div>
          <p class="muted small">{parts.join(' · ')}</p>
          {draft.editOf && <p class="notice small">{t('drafts.correction')}</p>}
          {draft.description && <p class="small draft-note">{draft.description}</p>}
        </div>
      </div>
      <div class="row wrap">
        <button type="button" class="primary" onClick={reopen} data-testid="open-draft">
          {t('drafts.open')}</button>
        <button type="button" class="danger" onClick={remove} data-testid="delete-draft">
          {t('drafts.delete')}</button>
      </div>
    </li>
  );
}

export function Drafts() {
  const s = useStore();
  async function fresh() {
    await startNewDraft();
    go('capture');
  }
  return (
    <div class="drafts">
      <section aria-labelledby="drafts-title">
        <h2 id="drafts-title">{t('drafts.title')} <small>({s.drafts.length})</small></h2>
        <p class="muted small">{t('drafts.help')}</p>
        {s.drafts.length === 0 && <p class="muted" data-testid="drafts-empty">{t('drafts.empty')}</p>}
        <ul class="items" data-testid="draft-list">
          {s.drafts.map((d) => <DraftItem key={d.id} draft={d} categories={s.categories} cells={s.cells} />)}
        </ul>
        <button type="button" class="secondary big wide" onClick={fresh} data-testid="new-draft">
          {t('drafts.new')}</button>
      </section>
    </div>
  );
}
