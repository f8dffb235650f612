// The command centre (指挥中心) for supervisors and administrators, on a desktop browser: the
// live map, the case list, the case panel, notifications and the month's numbers. Loaded only
// for these roles (a lazy chunk), MapLibre only with the map (another lazy chunk).
import { useEffect } from 'preact/hooks';
import { lazy, Suspense } from 'preact/compat';
import { t, tn } from '../i18n/index.js';
import { pullServer } from '../lib/pull.js';
import { go } from '../router.js';
import { useStore } from '../store.js';
import { SettingsPanel } from '../components/SettingsPanel.jsx';
import { CalendarBanner } from './CalendarBanner.jsx';
import { CaseList } from './CaseList.jsx';
import { CasePanel } from './CasePanel.jsx';
import { Callbacks, CallForm } from './Hotline.jsx';
import { Filters } from './Filters.jsx';
import { Inbox, useUnread } from './Inbox.jsx';
import { Notices } from './Joint.jsx';
import { Numbers } from './Numbers.jsx';
import { startPolling, useLive } from './live.js';

const CaseMap = lazy(() => import('./CaseMap.jsx'));

const TABS = [['map', 'cmd.tab_map'], ['list', 'cmd.tab_list'], ['inbox', 'cmd.tab_inbox'],
  ['notices', 'cmd.tab_notices'], ['numbers', 'cmd.tab_numbers'], ['settings', 'nav.settings']];
// the call-taker (话务员) takes calls and calls back first; the rest of the centre follows
const CALL_TABS = [['call', 'hot.tab_call'], ['callbacks', 'hot.tab_callbacks'], ...TABS];

export default function Command({ route }) {
  const s = useStore();
  const lv = useLive();
  const [unread, refreshUnread] = useUnread();
  useEffect(() => startPolling(), []);
  // the server's vocabulary (open statuses, actions, sources): asked now when this page has none
  const known = !!s.server?.cases?.open_statuses;
  useEffect(() => {
    if (!known) pullServer().catch(() => {});
  }, [known]);
  const tabs = s.session.user.role === 'call_taker' ? CALL_TABS : TABS;
  const name = tabs.some(([n]) => n === route.name) ? route.name : tabs[0][0];
  const selected = route.query.get('case');
  // form: open the case with an action's form up (the inbox's 吹哨 proposal)
  const open = (id, form) => go(`${name === 'map' || name === 'list' ? name : 'list'}?case=${id}${form ? `&form=${form}` : ''}`);
  const close = () => go(name);

  let main;
  if (!known) return <p class="boot">{t('common.loading')}</p>;
  switch (name) {
    case 'list': main = <CaseList onOpen={open} selected={selected} />; break;
    case 'inbox': main = <Inbox onOpen={open} unread={unread} refresh={refreshUnread} />; break;
    case 'notices': main = <Notices onOpen={open} />; break;
    case 'numbers': main = <Numbers />; break;
    case 'call': main = <CallForm />; break;
    case 'callbacks': main = <Callbacks />; break;
    case 'settings': main = <div class="cmd-narrow"><SettingsPanel /></div>; break;
    default: main = (
      <Suspense fallback={<p class="loading">{t('common.loading')}</p>}>
        <CaseMap onOpen={open} />
      </Suspense>
    );
  }
  const withFilters = name === 'map' || name === 'list';
  return (
    <div class="cmd-shell" data-testid="command">
      <header class="topbar cmd-top">
        <h1 class="brand">{t('cmd.title')}</h1>
        <nav class="cmd-nav" aria-label={t('nav.label')}>
          {tabs.map(([n, label]) => (
            <a href={`#/${n}`} class={name === n ? 'active' : ''} aria-current={name === n ? 'page' : undefined}
              data-testid={`tab-${n}`}>
              {t(label)}
              {n === 'inbox' && unread.length > 0 && (
                <span class="badge" data-testid="unread-badge" aria-label={tn('nav.badge', unread.length)}>
                  {unread.length}</span>
              )}
            </a>
          ))}
        </nav>
        <span class="small cmd-user">
          {s.session.user.display_name || s.session.user.username}
          {lv.lastChangeAt && <span class="live-dot" title={t('cmd.live')} aria-hidden="true" />}
        </span>
      </header>
      <CalendarBanner />
      {withFilters && <Filters timeRange={name === 'map'} />}
      <div class={`cmd-body ${selected && withFilters ? 'with-panel' : ''}`}>
        <main class="cmd-main" id="main">{main}</main>
        {selected && withFilters && <CasePanel id={selected} onClose={close} form={route.query.get('form')} />}
      </div>
      {s.toast && <div class={`toast ${s.toast.kind}`} role="status" aria-live="polite">{s.toast.text}</div>}
    </div>
  );
}
