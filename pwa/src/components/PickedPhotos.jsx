// Photos picked for an action (an after-photo, an on-site photo): shrunk on the phone as they
// are picked, shown as thumbnails that can be removed. Shared by the worker's verification
// and the handler's desk.
import { useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { uuid } from '../lib/ids.js';
import { preparePhoto } from '../lib/photos.js';
import { BlobImage } from './BlobImage.jsx';

/** [photos, setPhotos, addFiles(files)]: up to 3 files a pick; onError(message) if one fails. */
export function usePickedPhotos(onError) {
  const [photos, setPhotos] = useState([]);
  async function addFiles(files) {
    for (const f of [...files].slice(0, 3)) {
      try {
        const p = await preparePhoto(f);
        setPhotos((list) => [...list, { id: uuid(), ...p }]);
      } catch {
        onError(t('capture.photo_unreadable'));
      }
    }
  }
  return [photos, setPhotos, addFiles];
}

export function PickedThumbs({ photos, setPhotos, testid }) {
  if (!photos.length) return null;
  return (
    <ul class="thumbs" data-testid={testid}>
      {photos.map((p, i) => (
        <li key={p.id}>
          <BlobImage blob={p.blob} alt={t('capture.photo_n', { n: i + 1 })} />
          <button type="button" class="remove" aria-label={t('capture.remove_photo', { n: i + 1 })}
            onClick={() => setPhotos(photos.filter((x) => x.id !== p.id))}>✕</button>
        </li>
      ))}
    </ul>
  );
}
