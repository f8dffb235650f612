// My notifications: unread first, mark read. A 主动治理 hot spot proposed to the supervisor
// (no case) says its class, community and count; the numbers screen has the month's list.
import { useEffect, useState } from 'preact/hooks';
import { formatTime, getLang, t } from '../i18n/index.js';
import { call } from './api.js';
import { useLive } from './live.js';

export function useUnread() {
  const lv = useLive();
  const [list, setList] = useState([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    call('me/notifications?unread=true').then(({ data }) => live && setList(data || [])).catch(() => {});
    return () => { live = false; };
  }, [lv.changed, tick]);
  return [list, () => setTick((n) => n + 1)];
}

export function Inbox({ onOpen, unread, refresh }) {
  const [all, setAll] = useState(null);
  const load = () => call('me/notifications').then(({ data }) => setAll(data || [])).catch(() => {});
  useEffect(() => { load(); }, [unread.length]);
  async function read(n) {
    try {
      await call(`me/notifications/${n.id}/read`, { method: 'POST' });
    } catch {
      /* offline: stays unread */
    }
    refresh();
    load();
  }
  return (
    <div class="cmd-inbox card" data-testid="inbox">
      <h2>{t('cmd.notifications')} <small>({t('cmd.unread_n', { n: unread.length })})</small></h2>
      {all && all.length === 0 && <p class="muted">{t('cmd.no_notifications')}</p>}
      <ul class="items">
        {(all || []).map((n) => (
          <li class={`item ${n.read_at ? '' : 'unread'}`} key={n.id} data-testid="notification">
            <div class="item-head">
              <strong>{t(`kind.${n.kind}`) === `kind.${n.kind}` ? n.kind : t(`kind.${n.kind}`)}
                {n.case_number != null && ` · ${t('records.case_n', { n: n.case_number })}`}</strong>
              <small>{formatTime(n.created_at)}</small>
            </div>
            {n.data?.proposal === 'whistle' && (
              <p class="small" data-testid="proposal">
                <span class="tag warn-tag">{t('joint.proposal')}</span>{' '}
                {n.case_id && <button type="button" class="secondary" data-testid="proposal-whistle"
                  onClick={() => { read(n); onOpen(n.case_id, 'whistle'); }}>{t('joint.open_whistle')}</button>}
              </p>
            )}
            {n.kind === 'hot_spot.proposed' && n.data?.category && (
              <p class="small" data-testid="hot-spot-proposal">
                {t('cmd.hot_spot_proposed', {
                  area: (getLang() === 'en' && n.data.area_name_en) || n.data.area_name || n.data.area_code,
                  category: (getLang() === 'en' && n.data.category_name_en) || n.data.category_name || n.data.category,
                  n: n.data.count, month: n.data.month,
                  avg: n.data.previous_average == null ? '—' : n.data.previous_average })}
              </p>
            )}
            <div class="row">
              {n.case_id && <button type="button" class="link" onClick={() => { read(n); onOpen(n.case_id); }}>
                {t('cmd.open_case')}</button>}
              {!n.read_at && <button type="button" class="link" onClick={() => read(n)}
                data-testid="mark-read">{t('cmd.mark_read')}</button>}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
