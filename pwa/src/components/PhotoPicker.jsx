// The one photo picker of the app (a report's photos, a verification's after-photo, a handler's
// after-photo): a camera button, optionally a gallery button, their hidden file inputs, and the
// picked photos as thumbnails that can be removed. Photos are shrunk on the phone as they are
// picked (lib/photos.js); the screen owns the list (a draft, or a form's state).
import { useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { uuid } from '../lib/ids.js';
import { preparePhoto } from '../lib/photos.js';
import { BlobImage } from './BlobImage.jsx';
import { Icon } from './Icon.jsx';

/** The files prepared as photos ({id, blob, width, height, exif}), at most `room` of them;
 * onError(message) for each file that is not a readable image. */
export async function preparePhotos(files, room, onError) {
  const added = [];
  for (const file of [...files].slice(0, Math.max(0, room))) {
    try {
      added.push({ id: uuid(), ...(await preparePhoto(file)) });
    } catch {
      onError(t('capture.photo_unreadable'));
    }
  }
  return added;
}

/** [photos, setPhotos, addFiles(files)] for a form's photos: up to `max` in all. */
export function usePickedPhotos(onError, max = 3) {
  const [photos, setPhotos] = useState([]);
  async function addFiles(files) {
    const added = await preparePhotos(files, max - photos.length, onError);
    if (added.length) setPhotos((list) => [...list, ...added].slice(0, max));
  }
  return [photos, setPhotos, addFiles];
}

/**
 * id: the camera input's id (the gallery's is `${galleryId}`); take: the camera button's text;
 * gallery: the gallery button's text, or none; onFiles(FileList); onRemove(photoId).
 */
export function PhotoPicker({ id, photos, max, take, gallery = null, galleryId, onFiles, onRemove,
  inputTestid, galleryTestid, thumbsTestid, wide = false }) {
  const cameraRef = useRef(null);
  const galleryRef = useRef(null);
  const full = max != null && photos.length >= max;
  const pick = (e) => { onFiles(e.currentTarget.files); e.currentTarget.value = ''; };
  const camera = (
    <button type="button" class={`primary big${wide ? ' wide' : ''}`} disabled={full}
      onClick={() => cameraRef.current.click()}><Icon name="camera" /> {take}</button>
  );
  return (
    <>
      {gallery ? (
        <div class="row">
          {camera}
          <button type="button" class="secondary big" onClick={() => galleryRef.current.click()}
            disabled={full}><Icon name="gallery" /> {gallery}</button>
        </div>
      ) : camera}
      <label class="sr-only" for={id}>{take}</label>
      <input id={id} ref={cameraRef} class="hidden-input" type="file" accept="image/*"
        capture="environment" data-testid={inputTestid} onChange={pick} />
      {gallery && (
        <>
          <label class="sr-only" for={galleryId}>{gallery}</label>
          <input id={galleryId} ref={galleryRef} class="hidden-input" type="file" accept="image/*"
            multiple data-testid={galleryTestid} onChange={pick} />
        </>
      )}
      {photos.length > 0 && (
        <ul class="thumbs" data-testid={thumbsTestid}>
          {photos.map((p, i) => (
            <li key={p.id}>
              <BlobImage blob={p.blob} alt={t('capture.photo_n', { n: i + 1 })} />
              <button type="button" class="remove" aria-label={t('capture.remove_photo', { n: i + 1 })}
                onClick={() => onRemove(p.id)}>✕</button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
