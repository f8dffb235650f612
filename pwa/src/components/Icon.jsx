// Small inline icons (no icon font, no emoji font needed on the phone).
const PATHS = {
  camera: 'M4 7h3l2-3h6l2 3h3a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1zm8 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z',
  gallery: 'M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1 12h14l-4.5-6-3.5 4.5-2.5-3z',
  outbox: 'M12 3l5 5h-3v6h-4V8H7zM4 15h4v3h8v-3h4v5H4z',
  check: 'M5 4h14a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm5.5 11.5l7-7-1.4-1.4-5.6 5.6-2.6-2.6-1.4 1.4z',
  map: 'M9 4l6 2 5-2v14l-5 2-6-2-5 2V6zm0 2.2v11.6l6 2V8.2z',
  settings: 'M12 8a4 4 0 1 1 0 8 4 4 0 0 1 0-8zm-1.5-5h3l.5 2.5 2 1 2.3-1.2 2.1 2.1-1.2 2.3 1 2 2.5.5v3l-2.5.5-1 2 1.2 2.3-2.1 2.1-2.3-1.2-2 1-.5 2.5h-3l-.5-2.5-2-1-2.3 1.2-2.1-2.1 1.2-2.3-1-2L3 13.5v-3l2.5-.5 1-2-1.2-2.3 2.1-2.1 2.3 1.2 2-1z',
};

export function Icon({ name, size = 24 }) {
  return (
    <svg class="icon-svg" width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fill="currentColor" fill-rule="evenodd" />
    </svg>
  );
}
