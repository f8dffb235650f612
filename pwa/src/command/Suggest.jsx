// A combobox for the call-taker: as they type, `fetchItems(text)` is asked (after a short pause,
// the latest answer wins) and its items listed; ArrowDown/ArrowUp move, Enter picks (and does not
// send the form), Escape closes; a click picks too. `render(item)` draws an item, `onPick(item)`
// takes it. The text stays the call-taker's: picking fills it with `label(item)`.
import { useEffect, useRef, useState } from 'preact/hooks';

let seq = 0;

export function Suggest({ id, value, onInput, fetchItems, render, label, onPick, onBlur,
  testid, placeholder, describedBy }) {
  const [items, setItems] = useState([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const asked = useRef(0);
  const timer = useRef(null);
  const listId = useRef(`suggest-${++seq}`).current;

  useEffect(() => () => clearTimeout(timer.current), []);

  function ask(text) {
    clearTimeout(timer.current);
    if (!text.trim()) {
      setItems([]);
      setOpen(false);
      return;
    }
    const n = ++asked.current;
    timer.current = setTimeout(async () => {
      try {
        const found = await fetchItems(text);
        if (n !== asked.current) return;
        setItems(found);
        setActive(0);
        setOpen(found.length > 0);
      } catch {
        if (n === asked.current) setOpen(false);
      }
    }, 150);
  }
  function pick(item) {
    onPick(item);
    onInput(label(item));
    setOpen(false);
    asked.current++;
  }
  function onKeyDown(e) {
    if (!open || !items.length) return;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((a) => (a + 1) % items.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (a - 1 + items.length) % items.length);
    } else if (e.key === 'Enter' && !(e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation();
      pick(items[active]);
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  }
  return (
    <div class="suggest">
      <input id={id} value={value} role="combobox" aria-autocomplete="list" aria-expanded={open}
        aria-controls={listId} aria-describedby={describedBy} placeholder={placeholder}
        aria-activedescendant={open ? `${listId}-${active}` : undefined} autocomplete="off"
        data-testid={testid}
        onInput={(e) => { onInput(e.currentTarget.value); ask(e.currentTarget.value); }}
        onKeyDown={onKeyDown}
        onBlur={(e) => { setTimeout(() => setOpen(false), 150); onBlur?.(e); }} />
      <ul id={listId} role="listbox" class="suggest-list" hidden={!open} data-testid={`${testid}-list`}>
        {items.map((item, i) => (
          <li id={`${listId}-${i}`} role="option" aria-selected={i === active}
            class={i === active ? 'active' : ''} data-testid={`${testid}-item`}
            onMouseDown={(e) => { e.preventDefault(); pick(item); }}>{render(item)}</li>
        ))}
      </ul>
    </div>
  );
}
