// The cases as a table, with the map's filters, sortable by received or due time, paginated. The
// 挂账 list (status suspended) shows each case's reason and review date; a 挂账 asked for is tagged.
import { useEffect, useState } from 'preact/hooks';
import { formatTime, nameOf, statusText, t, tn } from '../i18n/index.js';
import { useStore } from '../store.js';
import { call, departmentsOf, filterQuery, pagination } from './api.js';
import { EstimatedMark } from './CalendarBanner.jsx';
import { useLive } from './live.js';

const PAGE_SIZE = 25;

export function CaseList({ onOpen, selected }) {
  const s = useStore();
  const lv = useLive();
  const [order, setOrder] = useState('received');
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState(null);
  const [total, setTotal] = useState(0);
  // false: the server stopped counting past the page (a whole city's cases): "at least n"
  const [exact, setExact] = useState(true);
  const [error, setError] = useState(null);

  useEffect(() => setPage(1), [lv.filters, order]);
  useEffect(() => {
    let live = true;
    const q = filterQuery(lv.filters);
    q.set('order', order);
    q.set('page', String(page));
    q.set('page_size', String(PAGE_SIZE));
    call(`cases?${q}`).then(({ data, headers }) => {
      if (!live) return;
      setRows(data);
      const meta = pagination(headers);
      setTotal(meta?.total ?? data.length);
      setExact(meta?.total_exact !== false);
      setError(null);
    }).catch((err) => live && setError(err.message));
    return () => { live = false; };
  }, [lv.filters, lv.changed, order, page]);

  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const totalText = exact ? tn('cmd.total', total) : t('cmd.total_at_least', { n: total });
  const suspendedList = lv.filters.status?.length === 1 && lv.filters.status[0] === 'suspended';
  const departments = departmentsOf(s.categories);
  const deptName = (code) => {
    const d = departments.find((x) => x.code === code);
    return d ? nameOf(d) : code;
  };
  const sortButton = (key, label) => (
    <button type="button" class={`link sort ${order === key ? 'on' : ''}`} data-testid={`sort-${key}`}
      aria-pressed={order === key} onClick={() => setOrder(key)}>{label}{order === key ? ' ▾' : ''}</button>
  );
  return (
    <div class="cmd-list" data-testid="case-list">
      {error && <p class="error">{error}</p>}
      {suspendedList && <h2 data-testid="suspended-list">{t('cmd.suspended_list')}</h2>}
      <p class="small muted" data-testid="list-total">{totalText}</p>
      <div class="table-wrap" tabIndex={0} role="region" aria-label={totalText}>
        <table>
          <thead>
            <tr>
              <th>{t('cmd.number')}</th>
              <th>{t('cmd.status')}</th>
              <th>{t('capture.category')}</th>
              <th>{t('cmd.where')}</th>
              <th>{t('cmd.department')}</th>
              {suspendedList && <th>{t('cmd.suspend_reason')}</th>}
              {suspendedList && <th>{t('cmd.review_on')}</th>}
              <th>{sortButton('received', t('cmd.received'))}</th>
              <th>{sortButton('due', t('cmd.due'))}</th>
            </tr>
          </thead>
          <tbody>
            {(rows || []).map((c) => {
              const cat = s.categories.find((x) => x.code === c.category);
              return (
                <tr key={c.id} class={`${c.overdue ? 'overdue' : ''} ${selected === c.id ? 'sel' : ''}`}
                  data-testid="case-row" data-id={c.id} data-number={c.number} data-status={c.status}
                  tabIndex={0} onClick={() => onOpen(c.id)}
                  onKeyDown={(e) => { if (e.key === 'Enter') onOpen(c.id); }}>
                  <td><strong>{c.number}</strong></td>
                  <td>
                    <span class={`status-tag st-${c.status}`}>{statusText(c.status)}</span>
                    {c.overdue && <span class="tag danger">{t('tasks.overdue')}</span>}
                    {c.suspension?.status === 'pending' && <span class="tag">{t('cmd.suspension_asked')}</span>}
                  </td>
                  <td class="desc">{cat ? nameOf(cat) : c.category}</td>
                  <td class="desc">{c.cell ? nameOf(c.cell) : t('records.outside_grid')}</td>
                  <td class="dept">{c.department ? deptName(c.department) : '—'}</td>
                  {suspendedList && <td data-testid="suspend-reason">
                    {c.suspension ? t(`suspend.${c.suspension.reason_kind}`) : '—'}</td>}
                  {suspendedList && <td data-testid="review-on">{c.suspension?.review_on || '—'}</td>}
                  <td>{formatTime(c.received_at)}</td>
                  <td>{c.due_at ? formatTime(c.due_at) : '—'}<EstimatedMark c={c} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {rows && rows.length === 0 && <p class="muted">{t('cmd.no_cases')}</p>}
      <div class="row pager">
        <button type="button" class="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
          {t('cmd.prev')}</button>
        <span class="small">{t('cmd.page', { page, pages: exact ? pages : `${pages}+` })}</span>
        <button type="button" class="secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
          {t('cmd.next')}</button>
      </div>
    </div>
  );
}
