// Photos are made smaller on the phone before they are stored: long side about 2048 px, JPEG.
// Their EXIF time and position are read first (exifr's lite build: JPEG, HEIC, TIFF; EXIF and
// GPS only) and travel with the photo; a JPEG's own EXIF segment is also copied into the smaller
// copy (lib/exifcopy.js), so that the stored original keeps the camera's record as evidence.
// exifr loads with the first photo picked (a chunk of its own, precached by the service worker).
import { keepExif } from './exifcopy.js';

export const MAX_SIDE = 2048;
const QUALITY = 0.85;

async function decode(file) {
  if (globalThis.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      /* a browser without the options argument, or a format it cannot decode this way */
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * The evidence in a photo file's EXIF: {taken_at (ISO, UTC), lon, lat} (null when absent), or
 * null when it has none. A camera's time without an offset is read as the phone's local time.
 */
export async function readExif(file) {
  let tags = null;
  try {
    const { parse: parseExif } = await import('exifr/dist/lite.esm.mjs');
    tags = await parseExif(file, { tiff: true, exif: true, gps: true, ifd1: false, xmp: false,
      icc: false, iptc: false, jfif: false });
  } catch {
    return null; // not a format exifr reads, or a broken header: no evidence, not an error
  }
  if (!tags) return null;
  const when = tags.DateTimeOriginal || tags.CreateDate;
  const taken = when instanceof Date && !Number.isNaN(when.getTime()) ? when.toISOString() : null;
  const lat = Number.isFinite(tags.latitude) ? tags.latitude : null;
  const lon = Number.isFinite(tags.longitude) ? tags.longitude : null;
  if (!taken && lat === null) return null;
  return { taken_at: taken, lon: lat === null ? null : lon, lat: lon === null ? null : lat };
}

/**
 * Returns {blob, width, height, exif, exifKept}: a JPEG whose long side is at most MAX_SIDE. A JPEG
 * already small enough is kept as it is; a larger one is re-encoded with the original's EXIF
 * segment copied in (Orientation 1, its new size): exifKept says whether the stored bytes carry
 * the camera's EXIF (which the server reads and checks against the report).
 * Throws when the file is not an image the browser can read.
 */
export async function preparePhoto(file) {
  const exif = await readExif(file);
  const bmp = await decode(file);
  const width = bmp.width || bmp.naturalWidth;
  const height = bmp.height || bmp.naturalHeight;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  if (scale === 1 && file.type === 'image/jpeg' && file.size <= 4 * 1024 * 1024) {
    bmp.close?.();
    return { blob: new Blob([file], { type: 'image/jpeg' }), width, height, exif, exifKept: !!exif };
  }
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bmp, 0, 0, w, h);
  bmp.close?.();
  const encoded = await new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', QUALITY));
  canvas.width = 0; // free the bitmap memory at once on small phones
  const { blob, kept } = await keepExif(file, encoded, w, h);
  return { blob, width: w, height: h, exif, exifKept: kept };
}
