// The filters the map and the list share: status, category, department, time range (map),
// overdue only, area (a code prefix), source (grid worker, 12345 hotline, Open311, other).
import { nameOf, t } from '../i18n/index.js';
import { useStore } from '../store.js';
import { departmentsOf, vocabulary } from './api.js';
import { live, setLive, useLive } from './live.js';

const STATUSES = ['reported', 'accepted', 'dispatched', 'returned', 'suspended', 'resolved', 'closed',
  'rejected',
  'duplicate'];

export function Filters({ timeRange = true }) {
  const s = useStore();
  const lv = useLive();
  const f = lv.filters;
  const set = (changes) => setLive({ filters: { ...live().filters, ...changes } });
  const departments = departmentsOf(s.categories);
  return (
    <form class="cmd-filters" onSubmit={(e) => e.preventDefault()} aria-label={t('cmd.filters')}
      data-testid="filters">
      <label>
        <span>{t('cmd.status')}</span>
        <select value={f.status[0] || ''} data-testid="filter-status"
          onChange={(e) => set({ status: e.currentTarget.value ? [e.currentTarget.value] : [] })}>
          <option value="">{t('cmd.open_cases')}</option>
          {STATUSES.map((st) => <option value={st}>{t(`status.${st}`)}</option>)}
        </select>
      </label>
      <label>
        <span>{t('capture.category')}</span>
        <select value={f.category} data-testid="filter-category"
          onChange={(e) => set({ category: e.currentTarget.value })}>
          <option value="">{t('cmd.all')}</option>
          {s.categories.map((c) => <option value={c.code}>{c.code} {nameOf(c)}</option>)}
        </select>
      </label>
      <label>
        <span>{t('cmd.department')}</span>
        <select value={f.department} data-testid="filter-department"
          onChange={(e) => set({ department: e.currentTarget.value })}>
          <option value="">{t('cmd.all')}</option>
          {departments.map((d) => <option value={d.code}>{nameOf(d)}</option>)}
        </select>
      </label>
      <SourceSelect value={f.source} onChange={(source) => set({ source })} />
      <label>
        <span>{t('cmd.area')}</span>
        <input type="text" inputMode="numeric" pattern="[0-9]*" value={f.area} size="12"
          placeholder="110101…" data-testid="filter-area"
          onChange={(e) => set({ area: e.currentTarget.value.replace(/\D/g, '') })} />
      </label>
      {timeRange && (
        <>
          <label>
            <span>{t('cmd.from')}</span>
            <input type="date" value={f.from} onChange={(e) => set({ from: e.currentTarget.value })} />
          </label>
          <label>
            <span>{t('cmd.to')}</span>
            <input type="date" value={f.to} onChange={(e) => set({ to: e.currentTarget.value })} />
          </label>
        </>
      )}
      <label class="check">
        <input type="checkbox" checked={f.overdue} data-testid="filter-overdue"
          onChange={(e) => set({ overdue: e.currentTarget.checked })} />
        <span>{t('cmd.overdue_only')}</span>
      </label>
    </form>
  );
}

/** The source filter (来源), shared by the map, the list and the numbers. */
export function SourceSelect({ value, onChange }) {
  return (
    <label>
      <span>{t('cmd.source')}</span>
      <select value={value} data-testid="filter-source" onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{t('cmd.all')}</option>
        {vocabulary().sources.map((src) => <option value={src}>{t(`source.${src}`)}</option>)}
      </select>
    </label>
  );
}
