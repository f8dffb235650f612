// An outbox item's true state in words: saved → sending (photo 2 of 3) → accepted as case N,
// or rejected with the server's reason.
import { t } from '../i18n/index.js';

export function stateText(item, syncing) {
  if (item.state === 'accepted') {
    if (item.kind === 'action' && item.body?.purpose === 'resolution') {
      return t('state.action_accepted', { n: item.server?.number ?? item.body.case_number ?? '' });
    }
    if (item.kind === 'patrol') return t('state.patrol_accepted', { n: item.server?.cells ?? 0 });
    if (item.kind === 'dispute_step') {
      return t('state.dispute_step_accepted', { n: item.server?.number ?? item.body.number ?? '',
        status: t(`dispute.status_${item.server?.status}`) });
    }
    if (item.kind === 'dispute') return t('state.dispute_accepted', { n: item.server?.number ?? '' });
    return item.kind === 'action'
      ? t('state.verification_accepted', { n: item.server?.number ?? '' })
      : t('state.accepted', { n: item.server?.number ?? '' });
  }
  if (item.state === 'rejected') return t('state.rejected', { reason: reasonText(item.error) });
  if (item.state === 'sending' && syncing) {
    const p = item.progress;
    if (!p || p.photo === 0) return t('state.sending_report');
    if (p.action) return t('state.sending_action');
    if (p.stalled) {
      return t('state.stalled_resuming', { n: p.photo, of: p.of, acked: kb(p.acked), size: kb(p.size) });
    }
    if (p.size) {
      return t('state.sending_photo_bytes', { n: p.photo, of: p.of, acked: kb(p.acked), size: kb(p.size) });
    }
    return t('state.sending_photo', { n: p.photo, of: p.of });
  }
  return t('state.saved');
}

function kb(bytes) {
  return Math.round((bytes || 0) / 1024);
}

/** The server's reason in the worker's language where the code is known, else its message. */
export function reasonText(error) {
  if (!error) return '';
  const key = `error.${error.code}`;
  const known = t(key);
  let text = known !== key ? known : (error.message || error.code);
  if (error.photo) text = `${t('state.photo_n', { n: error.photo })}: ${text}`;
  return text;
}

export function fieldLines(error) {
  if (!error?.fields) return [];
  return Object.entries(error.fields).map(([field, msgs]) => `${field}: ${[].concat(msgs).join(' ')}`);
}

export function ItemState({ item, syncing }) {
  const cls = item.state === 'rejected' ? 'rejected' : item.state === 'accepted' ? 'accepted'
    : item.state === 'sending' && syncing ? 'sending' : 'saved';
  return (
    <p class={`state ${cls}`} data-testid="item-state" data-state={item.state}>
      {stateText(item, syncing)}
      {item.state !== 'accepted' && item.state !== 'rejected' && item.retry && (
        <small class="retry"> · {t(item.retry.code === 'network.stalled' ? 'state.retry_stalled'
          : 'state.retry', { n: item.retry.count })}</small>
      )}
    </p>
  );
}
