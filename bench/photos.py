"""Phone-like photos for the sync storm: a few 12-megapixel noisy JPEGs (~2 MB) with EXIF GPS,
made once with Pillow, then told apart by a counter written into a JPEG comment segment of
fixed length, so every upload has its own SHA-256 without encoding another image."""

from __future__ import annotations

import io
import random
from datetime import datetime

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

WIDTH, HEIGHT = 4000, 3000  # 12 MP, 4:3 like most phone cameras
QUALITY = 85
_NOISE = 0.095  # noise blended over gradients: about 2 MB at this size and quality
_MARK = b"gridsnap-bench-photo-"
_COUNTER_DIGITS = 10


def _dms(degrees: float):
    whole = int(degrees)
    minutes_f = (degrees - whole) * 60
    minutes = int(minutes_f)
    return (IFDRational(whole, 1), IFDRational(minutes, 1),
            IFDRational(round((minutes_f - minutes) * 60 * 10000), 10000))


def _exif(lat: float, lon: float, taken_at: datetime) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "gridsnap-bench"
    exif[ExifTags.Base.Model] = "synthetic 12MP"
    exif[ExifTags.Base.Orientation] = 1
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.DateTimeOriginal] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    ifd[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    return exif.tobytes()


def _photo_like(seed: int) -> Image.Image:
    """Gradients with soft blobs and fine noise: compresses like a photo, not a test card."""
    rnd = random.Random(seed)
    w, h = WIDTH, HEIGHT
    horizontal = Image.linear_gradient("L").rotate(90 * (seed % 4)).resize((w, h))
    vertical = Image.linear_gradient("L").resize((w, h))
    bw, bh = w // 64, h // 64
    blobs = Image.frombytes("L", (bw, bh), rnd.randbytes(bw * bh)).resize(
        (w, h), Image.Resampling.BICUBIC)
    noise = Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))
    return Image.blend(Image.merge("RGB", (horizontal, vertical, blobs)), noise, _NOISE)


class PhotoSet:
    """`n_bases` distinct JPEGs; photo(k) is base k % n_bases with counter k in its comment."""

    def __init__(self, n_bases: int, lat: float, lon: float, seed: int = 1) -> None:
        self.bases: list[tuple[bytes, int]] = []
        placeholder = _MARK + b"0" * _COUNTER_DIGITS
        for b in range(n_bases):
            out = io.BytesIO()
            _photo_like(seed + b).save(
                out, "JPEG", quality=QUALITY, comment=placeholder,
                exif=_exif(lat + 0.0005 * b, lon + 0.0005 * b, datetime(2026, 11, 23, 9, 30, b)))
            data = out.getvalue()
            offset = data.index(placeholder) + len(_MARK)
            assert data.count(placeholder) == 1
            self.bases.append((data, offset))

    def photo(self, k: int) -> bytes:
        data, offset = self.bases[k % len(self.bases)]
        counter = str(k).zfill(_COUNTER_DIGITS).encode()
        return data[:offset] + counter + data[offset + _COUNTER_DIGITS:]

    @property
    def mean_size(self) -> float:
        return sum(len(d) for d, _ in self.bases) / len(self.bases)
