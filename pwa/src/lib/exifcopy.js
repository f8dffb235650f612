// The camera's EXIF kept in a photo made smaller on the phone. A canvas re-encodes the pixels and
// writes no EXIF, so the original file's EXIF segment (APP1, "Exif\0\0" + TIFF) is copied into the
// new JPEG as it is — time, position, camera, the lot: the evidence is the camera's own record,
// read again by the server from the stored bytes — with three fields made true of the new image:
// Orientation is 1 (the pixels were turned upright when decoded) and the pixel dimensions are the
// new ones. Only bytes are moved; exifr reads the values (photos.js). No maintained npm package
// writes EXIF into a browser Blob without re-serialising every tag (piexifjs: unreleased since
// 2019, binary strings), and the transplant needs only the segment walk below.

const SOI = 0xd8;
const SOS = 0xda;
const EOI = 0xd9;
const APP0 = 0xe0;
const APP1 = 0xe1;
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"

const T_ORIENTATION = 0x0112;
const T_IMAGE_WIDTH = 0x0100;
const T_IMAGE_LENGTH = 0x0101;
const T_EXIF_IFD = 0x8769;
const T_PIXEL_X = 0xa002;
const T_PIXEL_Y = 0xa003;
const SHORT = 3;
const LONG = 4;

/** [{marker, start, end}] of a JPEG's whole segments before the scan (start at its 0xFF), or null
 * when it is not a JPEG. */
function segments(bytes) {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return null;
  const out = [];
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    if (marker === 0xff) { i += 1; continue; } // fill byte
    if (marker === SOS || marker === EOI) break;
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    if (len < 2) return null;
    if (i + 2 + len > bytes.length) break; // the head of a file: what was read so far
    out.push({ marker, start: i, end: i + 2 + len });
    i += 2 + len;
  }
  return out;
}

function isExif(bytes, seg) {
  if (seg.marker !== APP1 || seg.end - seg.start < 4 + EXIF_HEADER.length + 8) return false;
  return EXIF_HEADER.every((b, k) => bytes[seg.start + 4 + k] === b);
}

/** The APP1 EXIF segment of a JPEG (marker and length included), a copy, or null. */
export function exifSegment(bytes) {
  const segs = segments(bytes);
  const seg = segs && segs.find((s) => isExif(bytes, s));
  return seg ? bytes.slice(seg.start, seg.end) : null;
}

/** Sets, in place, the value of a SHORT or LONG field of an IFD; false when it is not there. */
function setField(view, tiff, ifd, tag, value, little) {
  const count = view.getUint16(tiff + ifd, little);
  for (let n = 0; n < count; n += 1) {
    const e = tiff + ifd + 2 + n * 12;
    if (e + 12 > view.byteLength) return false;
    if (view.getUint16(e, little) !== tag) continue;
    const type = view.getUint16(e + 2, little);
    if (type === SHORT) view.setUint16(e + 8, Math.min(value, 0xffff), little);
    else if (type === LONG) view.setUint32(e + 8, value, little);
    else return false;
    return true;
  }
  return false;
}

function ifdOffset(view, tiff, ifd, tag, little) {
  const count = view.getUint16(tiff + ifd, little);
  for (let n = 0; n < count; n += 1) {
    const e = tiff + ifd + 2 + n * 12;
    if (e + 12 > view.byteLength) return null;
    if (view.getUint16(e, little) === tag) return view.getUint32(e + 8, little);
  }
  return null;
}

/**
 * The EXIF segment `app1` (as exifSegment returns it) made true of an upright image of
 * width × height: Orientation 1, the pixel dimensions. A copy; null when its TIFF is unreadable.
 */
export function fitExif(app1, width, height) {
  const seg = app1.slice();
  const view = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  const tiff = 4 + EXIF_HEADER.length;
  try {
    const order = view.getUint16(tiff);
    if (order !== 0x4949 && order !== 0x4d4d) return null; // "II" or "MM"
    const little = order === 0x4949;
    if (view.getUint16(tiff + 2, little) !== 42) return null;
    const ifd0 = view.getUint32(tiff + 4, little);
    if (tiff + ifd0 + 2 > seg.length) return null;
    setField(view, tiff, ifd0, T_ORIENTATION, 1, little);
    setField(view, tiff, ifd0, T_IMAGE_WIDTH, width, little);
    setField(view, tiff, ifd0, T_IMAGE_LENGTH, height, little);
    const exifIfd = ifdOffset(view, tiff, ifd0, T_EXIF_IFD, little);
    if (exifIfd && tiff + exifIfd + 2 <= seg.length) {
      setField(view, tiff, exifIfd, T_PIXEL_X, width, little);
      setField(view, tiff, exifIfd, T_PIXEL_Y, height, little);
    }
  } catch {
    return null; // an offset past the end (RangeError): a broken EXIF is not copied
  }
  return seg;
}

/**
 * The JPEG `encoded` with the EXIF segment `app1` put in: right after SOI (after a JFIF APP0, which
 * must come first), in place of any EXIF it had. Returns null when `encoded` is not a JPEG.
 */
export function withExif(encoded, app1) {
  const segs = segments(encoded);
  if (!segs) return null;
  const kept = segs.filter((s) => isExif(encoded, s));
  const jfif = segs[0] && segs[0].marker === APP0 ? segs[0] : null;
  const at = jfif ? jfif.end : 2;
  const parts = [encoded.subarray(0, at), app1];
  let i = at;
  for (const s of kept) { // drop an EXIF segment the encoder wrote itself
    if (s.start < at) continue;
    parts.push(encoded.subarray(i, s.start));
    i = s.end;
  }
  parts.push(encoded.subarray(i));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * The re-encoded JPEG Blob `encoded` carrying the EXIF of the original file `original`, made true
 * of the new width × height: {blob, kept: true}; or {blob: encoded, kept: false} when the original
 * has no EXIF segment to keep (not a JPEG, none, or unreadable).
 */
export async function keepExif(original, encoded, width, height) {
  try {
    // EXIF lives in the first 64 KB of a JPEG (APP1 is at most 65,535 bytes, after SOI/APP0)
    const head = new Uint8Array(await original.slice(0, 128 * 1024).arrayBuffer());
    const app1 = exifSegment(head);
    const fitted = app1 && fitExif(app1, width, height);
    if (!fitted) return { blob: encoded, kept: false };
    const merged = withExif(new Uint8Array(await encoded.arrayBuffer()), fitted);
    if (!merged) return { blob: encoded, kept: false };
    return { blob: new Blob([merged], { type: 'image/jpeg' }), kept: true };
  } catch {
    return { blob: encoded, kept: false };
  }
}
