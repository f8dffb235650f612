// What the worker captured: the outbox on this phone (true state of each item, what to do about a
// rejected one), then my reports as the server knows them. The list view of the map.
import { useEffect, useState } from 'preact/hooks';
import { BlobImage } from '../components/BlobImage.jsx';
import { fieldLines, ItemState } from '../components/ItemState.jsx';
import { SyncBar } from '../components/SyncBar.jsx';
import { formatTime, nameOf, statusText, t, tn } from '../i18n/index.js';
import { locateCell } from '../lib/grid.js';
import { deleteItem, dropRejectedPhoto, getBlob, resend } from '../lib/outbox.js';
import { syncSoon } from '../syncing.js';
import { go } from '../router.js';
import { reload, useStore } from '../store.js';

const NOTE_CHARS = 40; // the start of the description that tells one item from the next

/** The item's first photo from the phone's store (the blob goes once it was accepted). */
function FirstPhoto({ item }) {
  const [blob, setBlob] = useState(null);
  const id = item.photos[0]?.id;
  useEffect(() => {
    let live = true;
    setBlob(null);
    if (id) getBlob(id).then((b) => live && setBlob(b || null)).catch(() => {});
    return () => { live = false; };
  }, [id]);
  return blob
    ? <BlobImage blob={blob} alt={t('capture.photo_n', { n: 1 })} data-testid="outbox-thumb" />
    : <span class="img-placeholder" aria-hidden="true" />;
}

/** The start of a description, cut at a word's end where there is one. */
export function noteStart(text, max = NOTE_CHARS) {
  const s = (text || '').trim().replace(/\s+/g, ' ');
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

export function OutboxItem({ item, categories, cells = [], syncing, mine }) {
  const [busy, setBusy] = useState(false);
  const cat = categories.find((c) => c.code === (item.body.category));
  const title = item.kind === 'patrol' ? t('patrol.record_title', { n: item.body.points.length })
    : item.kind === 'dispute' ? t('dispute.record_title', { kind: t(`dispute.kind_${item.body.kind}`) })
    : item.kind === 'dispute_step' ? t('mediate.record_title', { n: item.body.number,
      step: t(`mediate.step_${item.body.step}`) })
    : item.kind === 'action'
    ? t(item.body.purpose === 'resolution' ? 'records.action_of' : 'records.verification_of',
      { n: item.body.case_number ?? '', action: t(`tasks.${item.body.action}`) })
    : (cat ? nameOf(cat) : item.body.category);
  const lines = item.state === 'rejected' ? fieldLines(item.error) : [];
  async function act(fn) {
    setBusy(true);
    try {
      await fn();
      await reload('items');
    } finally {
      setBusy(false);
    }
  }
  const when = item.kind === 'report' || item.kind === 'dispute' ? item.body.captured_at
    : item.kind === 'patrol' ? item.body.started_at : item.createdAt;
  const loc = item.body.location;
  // the cell as the server found it, else as the phone finds it (offline too)
  const cell = item.server?.cell || (loc && item.kind === 'report' ? locateCell(cells, loc.lon, loc.lat) : null);
  const note = noteStart(item.body.description || item.body.note);
  return (
    <li class={`item ${item.state}`} data-testid="outbox-item" data-id={item.id}>
      <div class="outbox-body">
        {item.photos.length > 0 && <FirstPhoto item={item} />}
        <div>
          <div class="item-head">
            <strong>{title}</strong>
            <small data-testid="outbox-time">{formatTime(typeof when === 'string' ? Date.parse(when) : when)}</small>
          </div>
          <p class="muted small" data-testid="outbox-meta">
            {tn('records.photos_n', item.photos.length)}
            {cell ? ` · ${nameOf(cell)}` : ''}
            {loc?.source === 'manual' ? ` · ${t('location.manual_short')}` : ''}
          </p>
          {note && <p class="small outbox-note" data-testid="outbox-note">{note}</p>}
        </div>
      </div>
      {!mine && <p class="notice small">{t('records.other_user', { user: item.user })}</p>}
      <ItemState item={item} syncing={syncing} />
      {lines.length > 0 && <ul class="fields">{lines.map((l) => <li>{l}</li>)}</ul>}
      {item.state === 'rejected' && mine && (
        <div class="row wrap">
          {item.kind === 'report' && !item.server && (
            <button type="button" class="secondary" disabled={busy} data-testid="edit-item"
              onClick={() => go(`capture?edit=${item.id}`)}>{t('records.edit')}</button>
          )}
          {item.error?.photo && item.server && (
            <button type="button" class="secondary" disabled={busy}
              onClick={() => act(() => dropRejectedPhoto(item.id)).then(() => syncSoon({ force: true }))}>
              {t('records.drop_photo')}</button>
          )}
          <button type="button" class="secondary" disabled={busy} data-testid="resend-item"
            onClick={() => act(() => resend(item.id)).then(() => syncSoon({ force: true }))}>{t('records.resend')}</button>
          <button type="button" class="danger" disabled={busy} data-testid="delete-item"
            onClick={() => window.confirm(t('records.delete_confirm')) && act(() => deleteItem(item.id))}>
            {t('records.delete')}</button>
        </div>
      )}
    </li>
  );
}

export function Records() {
  const s = useStore();
  const user = s.session.user.username;
  const open = s.items.filter((i) => i.state !== 'accepted').slice().reverse();
  const done = s.items.filter((i) => i.state === 'accepted').slice().reverse();
  return (
    <div class="records">
      <SyncBar />
      <section aria-labelledby="outbox-title">
        <h2 id="outbox-title">{t('records.outbox')} <small>({open.length})</small></h2>
        {open.length === 0 && <p class="muted" data-testid="outbox-empty">{t('records.outbox_empty')}</p>}
        <ul class="items" data-testid="outbox-list">
          {open.map((i) => <OutboxItem item={i} categories={s.categories} cells={s.cells} syncing={s.syncing} mine={i.user === user} />)}
        </ul>
        {done.length > 0 && (
          <>
            <h3>{t('records.sent_recently')}</h3>
            <ul class="items" data-testid="sent-list">
              {done.map((i) => <OutboxItem item={i} categories={s.categories} cells={s.cells} syncing={s.syncing} mine={i.user === user} />)}
            </ul>
          </>
        )}
      </section>
      <section aria-labelledby="mine-title">
        <h2 id="mine-title">{t('records.my_reports')} <small>({s.reports.length})</small></h2>
        {s.reports.length === 0 && <p class="muted">{t('records.no_reports')}</p>}
        <ul class="items" data-testid="report-list">
          {s.reports.slice(0, 200).map((r) => {
            const cat = s.categories.find((c) => c.code === r.category);
            return (
              <li class="item" key={r.id}>
                <div class="item-head">
                  <strong>{t('records.case_n', { n: r.number })} · {cat ? nameOf(cat) : r.category}</strong>
                  <small>{formatTime(r.captured_at)}</small>
                </div>
                <p class="muted small">
                  {r.cell ? nameOf(r.cell) : t('records.outside_grid')} · {statusText(r.status)}
                </p>
                {r.description && <p class="small">{r.description}</p>}
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}
