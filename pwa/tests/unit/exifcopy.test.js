import { describe, expect, it } from 'vitest';
import { exifSegment, fitExif, keepExif, withExif } from '../../src/lib/exifcopy.js';

// a segment: marker, big-endian length (with itself), body
const seg = (marker, body) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];

/** An APP1 EXIF segment in the byte order given: IFD0 {Orientation 6, ExifIFD}, ExifIFD
 * {PixelXDimension 4032 (LONG), PixelYDimension 3024 (SHORT)}. */
function exifApp1(little) {
  const tiff = new DataView(new ArrayBuffer(8 + 2 + 2 * 12 + 4 + 2 + 2 * 12 + 4));
  const u16 = (o, v) => tiff.setUint16(o, v, little);
  const u32 = (o, v) => tiff.setUint32(o, v, little);
  tiff.setUint16(0, little ? 0x4949 : 0x4d4d);
  u16(2, 42); u32(4, 8);
  u16(8, 2);
  u16(10, 0x0112); u16(12, 3); u32(14, 1); u16(18, 6); // Orientation SHORT 6
  u16(22, 0x8769); u16(24, 4); u32(26, 1); u32(30, 38); // ExifIFD at 38
  u32(34, 0);
  u16(38, 2);
  u16(40, 0xa002); u16(42, 4); u32(44, 1); u32(48, 4032);
  u16(52, 0xa003); u16(54, 3); u32(56, 1); u16(60, 3024);
  u32(64, 0);
  return seg(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, ...new Uint8Array(tiff.buffer)]);
}

const SCAN = [0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9];
const camera = (little) => new Uint8Array([0xff, 0xd8, ...exifApp1(little), ...seg(0xdb, [9, 9]), ...SCAN]);
const canvasJpeg = new Uint8Array([0xff, 0xd8, ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0]), ...seg(0xdb, [7]), ...SCAN]);

function fields(app1) {
  const v = new DataView(app1.buffer, app1.byteOffset + 10);
  const little = v.getUint16(0) === 0x4949;
  return { orientation: v.getUint16(18, little), x: v.getUint32(48, little), y: v.getUint16(60, little) };
}

describe('keeping the camera EXIF in a re-encoded JPEG', () => {
  for (const little of [true, false]) {
    it(`finds the segment and makes it true of the new image (${little ? 'II' : 'MM'})`, () => {
      const app1 = exifSegment(camera(little));
      expect(app1).not.toBeNull();
      expect(fields(app1)).toEqual({ orientation: 6, x: 4032, y: 3024 });
      const fitted = fitExif(app1, 1536, 2048);
      expect(fields(fitted)).toEqual({ orientation: 1, x: 1536, y: 2048 });
      expect(fields(app1).orientation).toBe(6); // a copy, the original untouched
    });
  }

  it('puts it after the JFIF segment and keeps everything else', () => {
    const app1 = fitExif(exifSegment(camera(true)), 10, 20);
    const out = withExif(canvasJpeg, app1);
    expect(out.length).toBe(canvasJpeg.length + app1.length);
    expect([...out.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...out.subarray(11, 13)]).toEqual([0xff, 0xe1]); // SOI (2) + APP0 (2 + 2 + 5), then EXIF
    expect(exifSegment(out)).toEqual(app1);
    expect([...out.subarray(out.length - SCAN.length)]).toEqual(SCAN);
    // once only: a second copy replaces the first
    expect(withExif(out, app1).length).toBe(out.length);
  });

  it('keeps nothing from a file without EXIF or not a JPEG, and refuses junk', async () => {
    expect(exifSegment(canvasJpeg)).toBeNull();
    expect(exifSegment(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBeNull();
    const broken = exifSegment(camera(true));
    broken[10] = 0x41; // neither II nor MM
    expect(fitExif(broken, 1, 1)).toBeNull();
    const encoded = new Blob([canvasJpeg], { type: 'image/jpeg' });
    const none = await keepExif(new Blob([new Uint8Array([1, 2, 3])]), encoded, 1, 1);
    expect(none).toEqual({ blob: encoded, kept: false });
    const kept = await keepExif(new Blob([camera(false)]), encoded, 1536, 2048);
    expect(kept.kept).toBe(true);
    const bytes = new Uint8Array(await kept.blob.arrayBuffer());
    expect(fields(exifSegment(bytes))).toEqual({ orientation: 1, x: 1536, y: 2048 });
  });
});
