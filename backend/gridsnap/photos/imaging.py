"""Check uploaded photos, read their EXIF and make the JPEGs we serve: Pillow only, no Flask, no DB.

`inspect_image` runs inside the upload request and is built to be cheap: the pixel count is read
from the header by a few lines of byte parsing before Pillow is asked anything, and a JPEG is
decoded at 1/8 scale, which still reads the whole entropy-coded stream, so a truncated file fails.
`make_derivatives` belongs in a job: it decodes once at the scale the display size needs.
A WebP has no cheap partial decode: past IN_REQUEST_DECODE_PIXELS the request checks only that
its RIFF container is whole, and the job decodes it (`make_derivatives_bounded`) in a child
process (a fresh interpreter, `decoder.py`) whose address space is capped, so a decompression bomb costs that child, not a worker.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, PngImagePlugin

# Stable codes; gridsnap.errors.CODES maps them to HTTP statuses.
NOT_AN_IMAGE = "photo.not_an_image"
TOO_MANY_PIXELS = "photo.too_many_pixels"
UNSUPPORTED_TYPE = "photo.unsupported_type"

ALLOWED_TYPES: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# File name extension of an original, by content type (see storage.original_key).
EXTENSIONS: dict[str, str] = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

DEFAULT_MAX_PIXELS = 50_000_000
# above this many pixels nothing is decoded fully inside a request (a phone's 12 MP photo is
# below it), and the follow-up job decodes in a memory-capped child process
IN_REQUEST_DECODE_PIXELS = 16_000_000
DEFAULT_DECODE_MAX_BYTES = 1024 * 1024 * 1024
DECODE_TIMEOUT_S = 300.0

_FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
_DAMAGED = "The image is damaged or incomplete; please take or upload it again."

_T = TypeVar("_T")


class PhotoError(Exception):
    """An image we refuse: `code` is a stable dotted string, `message` a sentence for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)  # both in args, so the error pickles (RQ) intact
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What an accepted upload is: its content type, size in pixels and Pillow format name."""

    mime: str
    width: int
    height: int
    format: str


@dataclass(frozen=True, slots=True)
class ExifInfo:
    """What the camera recorded; each field is None when absent or malformed."""

    taken_at: datetime | None = None  # aware when OffsetTimeOriginal was recorded, else naive
    lat: float | None = None
    lon: float | None = None
    orientation: int | None = None  # EXIF 1..8


@dataclass(frozen=True, slots=True)
class Derivative:
    """A JPEG made from an original: upright, RGB, without any metadata."""

    data: bytes
    width: int
    height: int


# ---------------------------------------------------------------------------------------------
# Upload checks


def inspect_image(
    data: bytes, declared_type: str, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> ImageInfo:
    """Return what `data` is if it is a complete JPEG, PNG or WebP of the declared type.

    The effective pixel limit is the smaller of `max_pixels` and Pillow's
    `Image.MAX_IMAGE_PIXELS`, so Pillow's own bomb warning never fires.

    Raises PhotoError: "photo.unsupported_type" when `declared_type` is not in ALLOWED_TYPES;
    "photo.not_an_image" when the bytes are not an image of that type, or are truncated or
    damaged; "photo.too_many_pixels" when width × height exceeds the limit (decided from the
    header, before anything is decoded).
    """
    mime = _normalize_mime(declared_type)
    fmt = ALLOWED_TYPES.get(mime)
    if fmt is None:
        raise PhotoError(
            UNSUPPORTED_TYPE, f"Photos must be JPEG, PNG or WebP images, not {declared_type!r}."
        )
    actual = _sniff_format(data)
    if actual != fmt:
        if actual is None:
            message = f"The file is not a {_FORMAT_NAMES[fmt]} image."
        else:
            message = (
                f"The file is a {_FORMAT_NAMES[actual]} image but was sent as {mime}; "
                "please upload it again."
            )
        raise PhotoError(NOT_AN_IMAGE, message)
    with _open(data, fmt, _pixel_limit(max_pixels)) as im:
        width, height = im.size
        if fmt == "WEBP" and width * height > IN_REQUEST_DECODE_PIXELS:
            # a 2 KB lossless WebP of 7000×7000 takes ~740 MB and seconds to decode: not here
            _check_riff_whole(data)
        else:
            _check_complete(im)
    return ImageInfo(mime=mime, width=width, height=height, format=fmt)


def _check_riff_whole(data: bytes) -> None:
    """A RIFF file (WebP) states its length: truncated or padded bytes are refused cheaply."""
    if len(data) < 12 or int.from_bytes(data[4:8], "little") + 8 != len(data):
        raise PhotoError(NOT_AN_IMAGE, _DAMAGED)


def _normalize_mime(declared_type: str | None) -> str:
    return (declared_type or "").split(";", 1)[0].strip().lower()


def _pixel_limit(max_pixels: int) -> int:
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return max_pixels if pillow_limit is None else min(max_pixels, pillow_limit)


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width * height > limit:
        raise PhotoError(
            TOO_MANY_PIXELS,
            f"The image is {width}×{height} pixels; at most {limit:,} pixels are accepted.",
        )


def _open(data: bytes, fmt: str, limit: int) -> ImageFile.ImageFile:
    """Open `data` with Pillow's `fmt` plugin only, after checking its size from the header."""
    size = _header_size(data, fmt)
    if size is None or size[0] <= 0 or size[1] <= 0:
        raise PhotoError(NOT_AN_IMAGE, _DAMAGED)
    _check_pixels(size, limit)
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Only if Pillow reads a larger size than _header_size did (the warning is raised only
        # when warnings are errors).
        raise PhotoError(TOO_MANY_PIXELS, "The image has too many pixels.") from exc
    except MemoryError:
        raise
    except Exception as exc:  # UnidentifiedImageError, OSError, SyntaxError, struct.error …
        raise PhotoError(NOT_AN_IMAGE, _DAMAGED) from exc
    try:
        _check_pixels(im.size, limit)
    except PhotoError:
        im.close()
        raise
    return im


def _check_complete(im: ImageFile.ImageFile) -> None:
    """Raise PhotoError "photo.not_an_image" unless the whole image is there, intact, cheaply.

    JPEG: decoded at 1/8 scale (draft size (1, 1)): the IDCT shrinks to its DC term but every
    Huffman-coded coefficient is still read, so a truncated file fails. PNG: the CRC of every
    chunk through IEND is checked (Image.verify) without inflating the pixels, which catches
    truncation and corruption in transit; a crafted PNG with valid CRCs around a broken zlib
    stream only fails when make_derivatives decodes it. WebP: decoded (libwebp).
    """
    if im.format == "PNG":
        _guarded(im.verify)
    else:
        _decode(im, (1, 1))


def _decode(im: ImageFile.ImageFile, draft_size: tuple[int, int] | None) -> None:
    """Decode the (first frame of the) image, at a reduced scale for a JPEG when `draft_size`.

    Raises PhotoError "photo.not_an_image" when decoding fails, e.g. on a truncated file.
    """
    if draft_size is not None and im.format in ("JPEG", "MPO"):
        im.draft(None, draft_size)
    _guarded(im.load)


def _guarded(read: Callable[[], object]) -> None:
    try:
        read()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(TOO_MANY_PIXELS, "The image has too many pixels.") from exc
    except MemoryError:
        raise
    except Exception as exc:  # OSError "image file is truncated", bad CRC, zlib/libwebp errors
        raise PhotoError(NOT_AN_IMAGE, _DAMAGED) from exc


# Header sniffing: format from the magic bytes, size from the header, without Pillow, so that
# the pixel limit is applied before Pillow's DecompressionBombWarning/Error can fire.

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _sniff_format(data: bytes) -> str | None:
    """Pillow format name told by the magic bytes, if JPEG, PNG or WebP, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == _PNG_SIGNATURE:
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) from the header, or None if the header is broken or has no image data."""
    if fmt == "JPEG":
        return _jpeg_size(data)
    if fmt == "PNG":
        return _png_size(data)
    return _webp_size(data)


# Frame headers (SOF0–SOF15 but DHT, JPG, DAC; and DHP, which Pillow reads as one too).
_JPEG_SOF = frozenset({*range(0xC0, 0xD0), 0xDE}) - {0xC4, 0xC8, 0xCC}
# Markers without a length field.
_JPEG_STANDALONE = frozenset({0xC8, *range(0xD0, 0xDA), *range(0xF0, 0xFE)})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the markers up to the first scan the way Pillow's JPEG parser does (skipping junk
    between segments as it does) and return the largest frame size declared on the way."""
    n = len(data)
    pos = 2  # after SOI
    size: tuple[int, int] | None = None
    while pos < n:
        if data[pos] != 0xFF:
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return None
            continue
        if pos + 1 >= n:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x00:  # stuffed zero, not a marker
            pos += 2
            continue
        if marker < 0xC0:  # Pillow rejects these too
            return None
        pos += 2
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > n:
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if marker in _JPEG_SOF:
            if length < 7 or pos + 7 > n:
                return None
            height = int.from_bytes(data[pos + 3 : pos + 5], "big")
            width = int.from_bytes(data[pos + 5 : pos + 7], "big")
            if size is None or width * height > size[0] * size[1]:
                size = (width, height)
        if marker == 0xDA:  # start of scan: the header is over
            return size
        pos += max(length, 2)
    return None  # no scan: a header without image data


def _png_size(data: bytes) -> tuple[int, int] | None:
    """Largest IHDR size among the chunks before the first IDAT (the spec allows one IHDR,
    first; Pillow would take the last one it meets)."""
    n = len(data)
    if data[12:16] != b"IHDR":
        return None
    pos = 8
    size: tuple[int, int] | None = None
    while pos + 8 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = data[pos + 4 : pos + 8]
        if chunk_type == b"IHDR":
            if length < 8 or pos + 16 > n:
                return None
            width = int.from_bytes(data[pos + 8 : pos + 12], "big")
            height = int.from_bytes(data[pos + 12 : pos + 16], "big")
            if size is None or width * height > size[0] * size[1]:
                size = (width, height)
        elif chunk_type == b"IDAT":
            return size
        pos += 12 + length  # length, type, data, CRC
    return None  # no IDAT: no image data


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Canvas size of an extended (VP8X) WebP, else the frame size of a simple lossy or
    lossless one."""
    chunk_type = data[12:16]
    if chunk_type == b"VP8X" and len(data) >= 30:
        return (
            1 + int.from_bytes(data[24:27], "little"),
            1 + int.from_bytes(data[27:30], "little"),
        )
    if chunk_type == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    if chunk_type == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


# ---------------------------------------------------------------------------------------------
# EXIF


def read_exif(data: bytes) -> ExifInfo:
    """Return the capture time, position and orientation recorded in the image's EXIF.

    Never raises on junk: a field that is missing or malformed is None, and bytes that are not
    an image (or have no EXIF) give an ExifInfo of Nones. For a PNG only an eXIf chunk before
    the image data is read, so that no pixels are decoded.
    """
    fmt = _sniff_format(data)
    size = _header_size(data, fmt) if fmt else None
    pillow_limit = Image.MAX_IMAGE_PIXELS
    if size is None or (pillow_limit is not None and size[0] * size[1] > pillow_limit):
        return ExifInfo()  # not an image, or one Pillow would warn about merely opening
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            if isinstance(im, PngImagePlugin.PngImageFile) and "exif" not in im.info:
                return ExifInfo()  # PngImageFile.getexif() would decode the image to look
            exif = im.getexif()
    except MemoryError:
        raise
    except Exception:
        return ExifInfo()
    position = _quietly(_position, exif)
    return ExifInfo(
        taken_at=_quietly(_taken_at, exif),
        lat=position[0] if position else None,
        lon=position[1] if position else None,
        orientation=_quietly(_orientation, exif),
    )


def _quietly(read: Callable[[Image.Exif], _T], exif: Image.Exif) -> _T | None:
    try:
        return read(exif)
    except MemoryError:
        raise
    except Exception:  # a malformed IFD or value: that field is unknown
        return None


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")


def _taken_at(exif: Image.Exif) -> datetime | None:
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    raw = _text(ifd.get(ExifTags.Base.DateTimeOriginal))
    try:
        taken_at = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # blank ("    :  :  ") or junk
        return None
    match = _OFFSET.fullmatch(_text(ifd.get(ExifTags.Base.OffsetTimeOriginal)))
    if match:
        sign, hours, minutes = match[1], int(match[2]), int(match[3])
        if hours <= 14 and minutes < 60:  # real offsets run from -12:00 to +14:00
            offset = timedelta(hours=hours, minutes=minutes)
            taken_at = taken_at.replace(tzinfo=timezone(-offset if sign == "-" else offset))
    return taken_at


def _position(exif: Image.Exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef),
                      "N", "S", 90.0)  # fmt: skip
    lon = _coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef),
                      "E", "W", 180.0)  # fmt: skip
    if lat is None or lon is None:  # half a position is no position
        return None
    return lat, lon


def _coordinate(
    dms: object, ref: object, positive: str, negative: str, limit: float
) -> float | None:
    """Degrees from EXIF (degrees, minutes, seconds) rationals, signed by the N/S or E/W ref."""
    hemisphere = _text(ref).upper()
    if hemisphere not in (positive, negative):
        return None
    parts = dms if isinstance(dms, tuple) else (dms,)
    if not 1 <= len(parts) <= 3:
        return None
    numbers = [float(part) for part in parts]  # IFDRational n/0 gives nan, rejected below
    if not all(math.isfinite(x) and x >= 0 for x in numbers):
        return None
    degrees = sum(x / 60**i for i, x in enumerate(numbers))
    if degrees > limit:
        return None
    return -degrees if hemisphere == negative else degrees


def _orientation(exif: Image.Exif) -> int | None:
    value = exif.get(ExifTags.Base.Orientation)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Derivatives


def make_derivatives(
    data: bytes,
    *,
    thumb_px: int = 320,
    display_px: int = 1600,
    quality: int = 82,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> dict[str, Derivative]:
    """Return {"thumb": …, "display": …}: JPEGs whose long side is at most `thumb_px` and
    `display_px` (never upscaled), turned upright by the EXIF orientation, in sRGB (an embedded
    RGB colour profile is applied, PNG transparency is composited on white), with no metadata
    at all (no EXIF, GPS, XMP, ICC profile or comment).

    A JPEG is decoded once, at the largest libjpeg scale (1/2, 1/4, 1/8) that still covers the
    display size; the thumbnail is made from the display image.

    Raises PhotoError ("photo.not_an_image", "photo.too_many_pixels") like inspect_image, and
    ValueError for sizes below 1 or a quality outside 1..95.
    """
    if thumb_px < 1 or display_px < 1:
        raise ValueError("thumb_px and display_px must be at least 1")
    if not 1 <= quality <= 95:
        raise ValueError("quality must be within 1..95")
    fmt = _sniff_format(data)
    if fmt is None:
        raise PhotoError(NOT_AN_IMAGE, "The file is not a JPEG, PNG or WebP image.")
    with _open(data, fmt, _pixel_limit(max_pixels)) as im:
        _decode(im, _draft_size(im.size, max(thumb_px, display_px)))
        icc_profile = im.info.get("icc_profile")
        rgb_profile = icc_profile and im.mode in ("RGB", "RGBA")
        to_srgb = _srgb_transform(icc_profile) if rgb_profile else None
        _upright(im)
        rgb = _to_rgb(im)
        rgb.info = {}  # nothing of the original's metadata may reach the encoder (e.g. a comment)
        display = _shrink(rgb, display_px)
        if to_srgb is not None:
            display = to_srgb.apply(display)
        if thumb_px <= display_px:
            thumb = _shrink(display, thumb_px)
        else:
            thumb = _shrink(rgb, thumb_px)
            if to_srgb is not None:
                thumb = to_srgb.apply(thumb)
        # Encoded before the with block ends: closing `im` frees its pixels, which `rgb` (and
        # so `display`, when nothing was shrunk) may be.
        return {"thumb": _encode(thumb, quality), "display": _encode(display, quality)}


def make_derivatives_bounded(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                             memory_bytes: int = DEFAULT_DECODE_MAX_BYTES,
                             timeout_s: float = DECODE_TIMEOUT_S,
                             **kwargs) -> dict[str, Derivative]:
    """make_derivatives, for an image past IN_REQUEST_DECODE_PIXELS in a child process
    (gridsnap.photos.decoder, a fresh interpreter) whose address space may grow by at most
    `memory_bytes`: running out there, or taking longer than `timeout_s`, is PhotoError
    "photo.too_many_pixels", never the caller's memory. Raises what make_derivatives does."""
    fmt = _sniff_format(data)
    size = _header_size(data, fmt) if fmt else None
    if size is None or size[0] * size[1] <= IN_REQUEST_DECODE_PIXELS:
        return make_derivatives(data, max_pixels=max_pixels, **kwargs)
    request = pickle.dumps((data, max_pixels, memory_bytes, kwargs))
    try:
        done = subprocess.run([sys.executable, "-m", "gridsnap.photos.decoder"], input=request,
                              capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise PhotoError(TOO_MANY_PIXELS, "The image is too large to process.") from None
    try:
        kind, value = pickle.loads(done.stdout)
    except Exception:  # killed (out of memory) before it could answer
        kind, value = "error", (TOO_MANY_PIXELS, "The image is too large to process.")
    if kind == "ok":
        return value
    raise PhotoError(*value)


def _draft_size(size: tuple[int, int], long_side: int) -> tuple[int, int] | None:
    """The size to ask `Image.draft` for so the decoded long side is still >= `long_side`."""
    width, height = size
    scale = long_side / max(width, height)
    if scale >= 1:
        return None
    # draft() picks the largest scale s in 8, 4, 2, 1 with s <= min(width // w, height // h).
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _upright(im: Image.Image) -> None:
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except MemoryError:
        raise
    except Exception:  # junk EXIF: keep the pixels as they are stored
        pass


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if im.mode.startswith("I;16") or im.mode == "I":
        # convert() would clip 16-bit grey at 255 (white); scale it to 8 bits instead.
        im = im.convert("I").point(lambda v: v / 257).convert("L")
    return im.convert("RGB")  # L, P, CMYK (Pillow inverts Adobe CMYK), YCbCr, 1


def _shrink(im: Image.Image, long_side: int) -> Image.Image:
    width, height = im.size
    if max(width, height) <= long_side:
        return im
    scale = long_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap=2 box-reduces by an integer factor first when shrinking by 4× or more (the
    # thumb, a PNG); the final Lanczos pass keeps it sharp (as Image.thumbnail does). Under 2×
    # (a phone photo's display image, from the reduced-scale decode: 2000 → 1600 px) bicubic
    # looks the same and costs 0.74× Lanczos' CPU, which was half of the whole job's
    # (bench part photo-cpu)
    mild = scale > 0.5
    return im.resize(size, Image.Resampling.BICUBIC if mild else Image.Resampling.LANCZOS,
                     reducing_gap=2.0)


def _encode(im: Image.Image, quality: int) -> Derivative:
    out = io.BytesIO()
    # No exif/icc_profile/xmp/comment arguments and an empty im.info: the file carries only
    # the JFIF header and the image.
    # optimize (Huffman tables fitted to the image): ~10% smaller for ~3 ms; progressive would
    # cost another ~10 ms on the display size for about the same size.
    im.save(out, "JPEG", quality=quality, optimize=True)
    return Derivative(data=out.getvalue(), width=im.width, height=im.height)


# Colour management: phones (iPhones notably) tag JPEGs with Display P3. Dropping that profile
# without converting would leave reds and greens visibly duller, so the pixels are converted
# to sRGB, which is what a JPEG without a profile is taken to be.

_COLORANTS = ("red_colorant", "green_colorant", "blue_colorant")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SRGB_PRIMARIES = tuple(getattr(_SRGB.profile, name)[0] for name in _COLORANTS)


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc_profile: bytes) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded RGB profile to sRGB, or None when the profile already is
    sRGB (by its primaries), is not an RGB profile, or cannot be read."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != "RGB":
            return None
        colorants = [getattr(source.profile, name) for name in _COLORANTS]
        if None not in colorants and all(  # a LUT-based profile has none: convert it
            math.isclose(a, b, abs_tol=0.002)
            for (ours, _), theirs in zip(colorants, _SRGB_PRIMARIES, strict=True)
            for a, b in zip(ours, theirs, strict=True)
        ):
            return None
        return ImageCms.buildTransform(
            source,
            _SRGB,
            "RGB",
            "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# Small helpers


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`: the content address of an original."""
    return hashlib.sha256(data).hexdigest()
