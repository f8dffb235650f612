// Screens and maps that load when first shown (their own chunks, by dynamic import()): the first
// screen of each app stays small. Every chunk is in the service worker's precache, so offline
// after the first visit they come from the cache like the shell; a chunk that could not be
// fetched (the network went before the service worker had it) says so, with a retry.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

/** What shows while a chunk loads: a status line, in the UI's language. */
export function Loading({ boot = false }) {
  return <p class={boot ? 'boot' : 'loading'} role="status" data-testid="loading">{t('common.loading')}</p>;
}

function LoadFailed({ onRetry }) {
  return (
    <div class="notice warn load-failed" role="alert" data-testid="load-failed">
      <p>{t('common.load_failed')}</p>
      <button type="button" class="secondary" onClick={onRetry} data-testid="load-retry">{t('common.try_again')}</button>
    </div>
  );
}

/**
 * A component loaded when first rendered: `load` is `() => import('./X.jsx')`, `name` the export
 * (default when omitted). Until it is there, `placeholder()` (a Loading line unless given); when
 * the import fails, a message and a retry (the next try imports again). `.preload()` starts the
 * import early (a screen the user is about to open).
 */
export function lazyComponent(load, name = 'default', placeholder = () => <Loading />) {
  let component = null;
  let pending = null;
  const preload = () => {
    if (!pending) {
      pending = load().then((mod) => {
        component = mod[name];
        return component;
      }, (err) => {
        pending = null; // a retry imports again
        throw err;
      });
    }
    return pending;
  };

  function Lazy(props) {
    const [state, setState] = useState(component ? 'ready' : 'loading');
    // the import starts with the first render, not after the paint (effects run after it)
    if (!component && state === 'loading') preload().catch(() => {});
    useEffect(() => {
      // (the import may have ended before this effect: then() still tells it)
      if (state !== 'loading') return undefined;
      let live = true;
      preload().then(() => live && setState('ready'), () => live && setState('failed'));
      return () => { live = false; };
    }, [state]);
    if (component) {
      const C = component;
      return <C {...props} />;
    }
    if (state === 'failed') return <LoadFailed onRetry={() => setState('loading')} />;
    return placeholder();
  }
  Lazy.preload = preload;
  return Lazy;
}
