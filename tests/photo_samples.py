"""Test images made with Pillow: phone-like JPEGs with EXIF, PNG, WebP and cheap pixel bombs.

Import as `from photo_samples import make_jpeg` (tests/ is on pytest's pythonpath). Results are
cached per arguments (they are immutable bytes), so a 12-megapixel JPEG is made once per run.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from datetime import datetime, timedelta

from PIL import ExifTags, Image, ImageCms
from PIL.TiffImagePlugin import IFDRational

TIANANMEN = (39.9163, 116.3972)  # (lat, lon)
# Noise blended over gradients: about 2 MB for 4000×3000 at quality 85, like a phone photo.
_NOISE = 0.095


@functools.lru_cache(maxsize=32)
def make_jpeg(
    width: int = 640,
    height: int = 480,
    *,
    gps: tuple[float, float] | None = None,
    taken_at: datetime | None = None,
    orientation: int | None = None,
    quality: int = 85,
    comment: bytes | None = None,
    icc_profile: bytes | None = None,
    progressive: bool = False,
    seed: int = 0,
) -> bytes:
    """A JPEG of noisy gradients; EXIF only with what is given.

    gps is (lat, lon) in degrees; taken_at goes to DateTimeOriginal as its wall time, plus
    OffsetTimeOriginal when it is aware; orientation is the EXIF value (6: turn 90° clockwise).
    """
    extra: dict[str, bytes] = {}
    exif = exif_bytes(gps=gps, taken_at=taken_at, orientation=orientation)
    if exif:
        extra["exif"] = exif
    if comment is not None:
        extra["comment"] = comment
    if icc_profile is not None:
        extra["icc_profile"] = icc_profile
    out = io.BytesIO()
    photo_like(width, height, seed=seed).save(
        out, "JPEG", quality=quality, progressive=progressive, **extra
    )
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def make_png(width: int = 640, height: int = 480, *, alpha: bool = False) -> bytes:
    """A PNG of noisy gradients; with `alpha`, its left half is fully transparent."""
    im = photo_like(width, height)
    if alpha:
        mask = Image.new("L", (width, height), 255)
        mask.paste(0, (0, 0, width // 2, height))
        im.putalpha(mask)
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=1)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def make_webp(width: int = 640, height: int = 480, *, lossless: bool = False) -> bytes:
    out = io.BytesIO()
    photo_like(width, height).save(out, "WEBP", quality=80, lossless=lossless)
    return out.getvalue()


def make_gif(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("P", (width, height)).save(out, "GIF")
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def make_bomb_png(width: int, height: int) -> bytes:
    """A valid, all-black 1-bit greyscale PNG of width × height pixels.

    At 1 bit a pixel the zlib stream to write is small (50 MB raw for 20000×20000, compressing
    ~1000:1), so this takes well under a second; decoding it would allocate a byte per pixel.
    """
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none", then zero bits
    compressor = zlib.compressobj(9)
    rows_per_chunk = max(1, (1 << 20) // len(row))
    chunks = []
    for start in range(0, height, rows_per_chunk):
        chunks.append(compressor.compress(row * min(rows_per_chunk, height - start)))
    chunks.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(chunks))
        + _png_chunk(b"IEND", b"")
    )


def photo_like(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """RGB gradients with soft blobs and fine noise: compresses like a photo, not like a
    flat test card."""
    rnd = random.Random(seed)
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    vertical = Image.linear_gradient("L").resize((width, height))
    bw, bh = max(1, width // 64), max(1, height // 64)
    blobs = Image.frombytes("L", (bw, bh), rnd.randbytes(bw * bh)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    noise = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    return Image.blend(Image.merge("RGB", (horizontal, vertical, blobs)), noise, _NOISE)


# Display P3 primaries (D50-adapted XYZ), as in the profile iPhones embed in their JPEGs.
_P3_PRIMARIES = {
    b"rXYZ": (0.5151, 0.2412, -0.0011),
    b"gXYZ": (0.2920, 0.6922, 0.0419),
    b"bXYZ": (0.1571, 0.0666, 0.7841),
}


@functools.cache
def display_p3_icc() -> bytes:
    """An ICC profile with Display P3 primaries and the sRGB tone curve (as Display P3 has):
    lcms's built-in sRGB profile with its colorant tags rewritten."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", icc, 128)
    for i in range(count):
        signature, offset, _size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if signature in _P3_PRIMARIES:
            fixed = [round(v * 65536) for v in _P3_PRIMARIES[signature]]
            struct.pack_into(">4s4xiii", icc, offset, b"XYZ ", *fixed)
    icc[84:100] = bytes(16)  # profile ID (an MD5) no longer matches: 0 means "not computed"
    return bytes(icc)


def _png_chunk(chunk_type: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + data)
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def exif_bytes(
    *,
    gps: tuple[float, float] | None = None,
    taken_at: datetime | None = None,
    orientation: int | None = None,
) -> bytes | None:
    """EXIF as Pillow's `exif=` save argument takes it, or None when there is nothing to say."""
    if gps is None and taken_at is None and orientation is None:
        return None
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if taken_at is not None:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        ifd[ExifTags.Base.DateTimeOriginal] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        offset = taken_at.utcoffset()
        if offset is not None:
            ifd[ExifTags.Base.OffsetTimeOriginal] = _format_offset(offset)
    if gps is not None:
        lat, lon = gps
        ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        ifd[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        ifd[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        ifd[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
        ifd[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        ifd[ExifTags.GPS.GPSLongitude] = _dms(abs(lon))
    return exif.tobytes()


def _dms(degrees: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    whole = int(degrees)
    minutes_float = (degrees - whole) * 60
    minutes = int(minutes_float)
    seconds = (minutes_float - minutes) * 60
    return (
        IFDRational(whole, 1),
        IFDRational(minutes, 1),
        IFDRational(round(seconds * 10000), 10000),
    )


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
