// A section of the numbers screen reads its table from the API again whenever its path (the
// month, the grouping) changes; an answer for an older path is dropped. A 404 — a server without
// this table yet — becomes the section's own sentence, so the rest of the screen works.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../lib/api.js';
import { call } from './api.js';

export function useTable(path, notAvailable) {
  const [table, setTable] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let on = true;
    setError(null);
    call(path)
      .then(({ data }) => on && setTable(data))
      .catch((err) => {
        if (!on) return;
        setTable(null);
        setError(err instanceof ApiError && err.status === 404 ? notAvailable : err.message);
      });
    return () => { on = false; };
  }, [path]);
  return { table, error };
}
