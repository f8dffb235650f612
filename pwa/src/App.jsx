// The shell: bottom navigation, hash routes, the sync triggers and the login gate.
import { useEffect, useState } from 'preact/hooks';
import { getLang, onLang, t, tn } from './i18n/index.js';
import { pending } from './lib/outbox.js';
import { registerServiceWorker } from './lib/swclient.js';
import { followConnectivity, syncSoon } from './syncing.js';
import { go, useRoute } from './router.js';
import { startStore, useStore } from './store.js';
import { tabOf } from './command/tabs.js';
import { Icon } from './components/Icon.jsx';
import { lazyComponent, Loading } from './components/Lazy.jsx';
import { PatrolBar } from './components/PatrolBar.jsx';
import { pillText, statusOf } from './components/SyncBar.jsx';
import { Capture } from './screens/Capture.jsx';
import { Login } from './screens/Login.jsx';

// Only the worker's first screen (capture) and the login are in the shell's chunk; every other
// screen is a chunk of its own, loaded when first shown and precached by the service worker (so
// it opens offline too). Leaflet only loads with a map.
const Records = lazyComponent(() => import('./screens/Records.jsx'), 'Records');
const Drafts = lazyComponent(() => import('./screens/Drafts.jsx'), 'Drafts');
const Dispute = lazyComponent(() => import('./screens/Dispute.jsx'), 'Dispute');
const Settings = lazyComponent(() => import('./screens/Settings.jsx'), 'Settings');
const Tasks = lazyComponent(() => import('./screens/Tasks.jsx'), 'Tasks');
const TaskDetail = lazyComponent(() => import('./screens/Tasks.jsx'), 'TaskDetail');
const HandlerDesk = lazyComponent(() => import('./screens/HandlerDesk.jsx'), 'HandlerDesk');
const HandlerCase = lazyComponent(() => import('./screens/HandlerDesk.jsx'), 'HandlerCase');
const MediatorDesk = lazyComponent(() => import('./screens/MediatorDesk.jsx'), 'MediatorDesk');
const DisputeDetail = lazyComponent(() => import('./screens/MediatorDesk.jsx'), 'DisputeDetail');
const MapView = lazyComponent(() => import('./screens/MapView.jsx'));
// the command centre only for supervisors, administrators and call-takers: the worker's shell
// stays small
const Command = lazyComponent(() => import('./command/Command.jsx'), 'default',
  () => <Loading boot />);
const COMMAND_ROLES = new Set(['supervisor', 'admin', 'call_taker']);
/** The map's chunk (MapLibre), fetched with the centre's when the map is the first screen. */
const preloadCaseMap = () => import('./command/CaseMap.jsx').catch(() => {});

const SYNC_EVERY_MS = 60 * 1000;

/** Whether a toast about an outbox item is out of date: the item was sent meanwhile. */
function sentAlready(toastState, items) {
  return !!toastState.item && items.some((i) => i.id === toastState.item && i.state === 'accepted');
}

export function App() {
  const s = useStore();
  const route = useRoute();
  const [, setLangTick] = useState(getLang());
  const [update, setUpdate] = useState(null);

  useEffect(() => {
    const offLang = onLang(setLangTick);
    startStore().then(() => syncSoon({ force: true, reason: 'start' }));
    registerServiceWorker((apply) => setUpdate(() => apply));
    const stopFollowing = followConnectivity(); // online, an answer, the worker's round
    const onVisible = () => {
      if (document.visibilityState === 'visible') syncSoon({ reason: 'visible' });
    };
    document.addEventListener('visibilitychange', onVisible);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') syncSoon({ reason: 'timer' });
    }, SYNC_EVERY_MS);
    if (navigator.storage?.persist) navigator.storage.persist().catch(() => {});
    return () => {
      stopFollowing();
      document.removeEventListener('visibilitychange', onVisible);
      clearInterval(timer);
      offLang();
    };
  }, []);

  // a new screen opens at its top, not at the scroll position of the one before (main scrolls)
  useEffect(() => {
    document.getElementById('main')?.scrollTo?.(0, 0);
    window.scrollTo?.(0, 0);
  }, [route.name, route.arg]);

  if (!s.ready) return <p class="boot">gridsnap…</p>;
  if (!s.session || s.session.expired) {
    return <Login expired={!!s.session?.expired} lastUser={s.session?.user} />;
  }

  const role = s.session.user.role;
  if (COMMAND_ROLES.has(role)) {
    if (tabOf(role, route.name) === 'map') preloadCaseMap();
    return <Command route={route} />;
  }
  const handler = role === 'handler';
  const mediator = role === 'mediator'; // 人民调解员: the disputes are the work
  const mine = pending(s.items, s.session.user.username);
  const status = statusOf(s);
  const pill = pillText(status, s.online);
  const rejected = s.items.filter((i) => i.state === 'rejected' && i.user === s.session.user.username);
  let screen;
  switch (route.name) {
    case 'records': screen = <Records />; break;
    case 'drafts': screen = <Drafts />; break;
    case 'dispute': screen = route.arg ? <DisputeDetail id={route.arg} base="dispute" /> : <Dispute />; break;
    case 'mediate': screen = route.arg ? <DisputeDetail id={route.arg} base="mediate" /> : <MediatorDesk />; break;
    case 'tasks': screen = route.arg ? <TaskDetail id={route.arg} /> : <Tasks />; break;
    case 'map': screen = <MapView pick={route.query.get('pick')} />; break;
    case 'settings': screen = <Settings />; break;
    case 'desk': screen = route.arg ? <HandlerCase id={route.arg} /> : <HandlerDesk />; break;
    default: screen = handler ? <HandlerDesk /> : mediator ? <MediatorDesk />
      : <Capture edit={route.query.get('edit')} />;
  }
  let active = handler && !['desk', 'records', 'settings'].includes(route.name) ? 'desk' : route.name;
  if (mediator && !['dispute', 'records', 'settings'].includes(route.name)) active = 'mediate';
  if (active === 'drafts') active = 'capture'; // the saved drafts belong to capture
  const waiting = mediator ? s.disputes.filter((d) => ['reported', 'accepted', 'mediating', 'agreed']
    .includes(d.status)).length : 0;
  const tabs = mediator ? [
    ['mediate', 'nav.mediate', 'check', waiting],
    ['dispute', 'nav.dispute', 'outbox', 0],
    ['records', 'nav.records', 'outbox', mine.length + rejected.length],
    ['settings', 'nav.settings', 'settings', 0],
  ] : handler ? [
    ['desk', 'nav.desk', 'check', s.tasks.length],
    ['records', 'nav.records', 'outbox', mine.length + rejected.length],
    ['settings', 'nav.settings', 'settings', 0],
  ] : [
    ['capture', 'nav.capture', 'camera', 0],
    ['records', 'nav.records', 'outbox', mine.length + rejected.length],
    ['tasks', 'nav.tasks', 'check', s.tasks.length],
    ['dispute', 'nav.dispute', 'outbox', 0],
    ['map', 'nav.map', 'map', 0],
    ['settings', 'nav.settings', 'settings', 0],
  ];
  return (
    <div class="shell">
      <header class="topbar">
        <h1 class="brand">{t(handler ? 'app.title_handler' : mediator ? 'app.title_mediator' : 'app.title')}</h1>
        <button type="button" class={`netpill ${s.online ? 'on' : 'off'} ${status.kind}`}
          data-testid="netpill" data-kind={status.kind} onClick={() => go('records')}
          aria-label={`${pill}${t('sync.status_aria')}`}>
          {pill}
        </button>
      </header>
      {update && (
        <div class="banner" role="status">
          {t('app.update_ready')}{' '}
          <button type="button" class="link" onClick={() => update()}>{t('app.update_now')}</button>
        </div>
      )}
      {/* between the bar and the screen, in the flow: it pushes the screen down and never covers
          a button; a "will be sent" goes once its item was sent */}
      {s.toast && !sentAlready(s.toast, s.items) && (
        <div class={`toast ${s.toast.kind}`} role="status" aria-live="polite" data-testid="toast">{s.toast.text}</div>)}
      {!handler && !mediator && <PatrolBar username={s.session.user.username} />}
      <main class="content" id="main">{screen}</main>
      <nav class="tabbar" aria-label={t('nav.label')}>
        {tabs.map(([name, label, icon, badge]) => (
          <a href={`#/${name}`} class={active === name ? 'active' : ''}
            aria-current={active === name ? 'page' : undefined} data-testid={`tab-${name}`}>
            <Icon name={icon} />
            <span class="label">{t(label)}</span>
            {badge > 0 && <span class="badge" aria-label={tn('nav.badge', badge)}>{badge}</span>}
          </a>
        ))}
      </nav>
    </div>
  );
}
