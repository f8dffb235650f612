// A task's photo from the phone's cache (kept by the pull for offline viewing), or a placeholder.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { db } from '../lib/db.js';
import { useStore } from '../store.js';
import { BlobImage } from './BlobImage.jsx';

function useTaskPhoto(photoId, size) {
  const [blob, setBlob] = useState(null);
  const s = useStore();
  useEffect(() => {
    let live = true;
    db().then((d) => d.get('taskPhotos', `${photoId}:${size}`)).then((b) => live && setBlob(b || null));
    return () => { live = false; };
  }, [photoId, size, s.tasks]);
  return blob;
}

export function TaskPhoto({ photo, size, alt }) {
  const blob = useTaskPhoto(photo.id, size);
  if (!blob) return <span class="img-placeholder" role="img" aria-label={t('tasks.photo_not_cached')} />;
  return <BlobImage blob={blob} alt={alt} />;
}
