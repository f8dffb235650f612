// The command centre (指挥中心) for supervisors and administrators, on a desktop browser: the
// live map, the case list, the case panel, notifications and the month's numbers. Loaded only
// for these roles (a lazy chunk); its first screen is the map (MapLibre, a chunk of its own),
// each other screen and the case panel load when first opened (chunks of their own).
import { useEffect } from 'preact/hooks';
import { t, tn } from '../i18n/index.js';
import { pullServer } from '../lib/pull.js';
import { go } from '../router.js';
import { useStore } from '../store.js';
import { lazyComponent, Loading } from '../components/Lazy.jsx';
import { CalendarBanner } from './CalendarBanner.jsx';
import { Filters } from './Filters.jsx';
import { Inbox, useUnread } from './Inbox.jsx';
import { startPolling, useLive } from './live.js';
import { tabOf, tabsOf } from './tabs.js';

const CaseMap = lazyComponent(() => import('./CaseMap.jsx'));
const CaseList = lazyComponent(() => import('./CaseList.jsx'), 'CaseList');
const CasePanel = lazyComponent(() => import('./CasePanel.jsx'), 'CasePanel',
  () => <aside class="cmd-panel card"><Loading /></aside>);
const Notices = lazyComponent(() => import('./Joint.jsx'), 'Notices');
const Numbers = lazyComponent(() => import('./Numbers.jsx'), 'Numbers');
const CallForm = lazyComponent(() => import('./Hotline.jsx'), 'CallForm');
const Callbacks = lazyComponent(() => import('./Hotline.jsx'), 'Callbacks');
const SettingsPanel = lazyComponent(() => import('../components/SettingsPanel.jsx'), 'SettingsPanel');

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
  const tabs = tabsOf(s.session.user.role);
  const name = tabOf(s.session.user.role, route.name);
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
    default: main = <CaseMap onOpen={open} />;
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
