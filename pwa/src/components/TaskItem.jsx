// One case in a task list (the worker's verifications, the handler's desk).
import { formatTime, nameOf, t } from '../i18n/index.js';
import { useStore } from '../store.js';
import { TaskPhoto } from './TaskPhoto.jsx';

export function TaskItem({ task, href, before, children }) {
  const s = useStore();
  const cat = s.categories.find((c) => c.code === task.category);
  return (
    <li class={`item task ${task.overdue ? 'overdue' : ''}`}>
      <a href={href} class="item-link" data-testid="task-link">
        {task.photos?.[0] && <TaskPhoto photo={task.photos[0]} size="thumb" alt="" />}
        <div>
          <div class="item-head">
            <strong>{t('records.case_n', { n: task.number })} · {cat ? nameOf(cat) : task.category}</strong>
          </div>
          <p class="small">{task.cell ? nameOf(task.cell) : ''} {task.address || ''}</p>
          <p class="small">
            {task.overdue && <span class="tag danger">{t('tasks.overdue')}</span>}{' '}
            {before}
            {task.due_at && t('tasks.due', { time: formatTime(task.due_at) })}
            {children}
          </p>
        </div>
      </a>
    </li>
  );
}
