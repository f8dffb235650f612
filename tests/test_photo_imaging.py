"""Photo checks, EXIF, derivatives and local storage: no database, no Flask."""

from __future__ import annotations

import io
import os
import pickle
import struct
import threading
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageCms

from gridsnap.grid.rules import distance_m
from gridsnap.photos.imaging import (
    NOT_AN_IMAGE,
    TOO_MANY_PIXELS,
    UNSUPPORTED_TYPE,
    PhotoError,
    inspect_image,
    make_derivatives,
    read_exif,
    sha256_hex,
)
from gridsnap.storage import LocalPhotoStorage, derivative_key, original_key

from photo_samples import (
    TIANANMEN,
    display_p3_icc,
    exif_bytes,
    make_bomb_png,
    make_gif,
    make_jpeg,
    make_png,
    make_webp,
    photo_like,
)

BEIJING = timezone(timedelta(hours=8))
TAKEN_AT = datetime(2024, 5, 1, 14, 30, 5, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def phone_jpeg() -> bytes:
    """4000×3000, ~2 MB, held in portrait (orientation 6), with time and place."""
    return make_jpeg(4000, 3000, gps=TIANANMEN, taken_at=TAKEN_AT, orientation=6)


@pytest.fixture()
def pillow_opened(monkeypatch) -> list[int]:
    """The sizes in bytes of the images handed to Pillow during the test: an image refused
    from its header alone is never opened, let alone decoded, however large it claims to be."""
    opened = []
    real_open = Image.open

    def spy(fp, *args, **kwargs):
        opened.append(len(fp.getbuffer()) if isinstance(fp, io.BytesIO) else -1)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    return opened


def _refusal(data: bytes, declared_type: str, **kwargs) -> PhotoError:
    with pytest.raises(PhotoError) as caught:
        inspect_image(data, declared_type, **kwargs)
    return caught.value


def _jpeg_markers(data: bytes) -> list[int]:
    """Markers of the segments before the first scan (plus SOS itself)."""
    markers, pos = [], 2
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")


def _decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# --- inspect_image: what is accepted -----------------------------------------------------------


def test_phone_jpeg_is_accepted_with_its_stored_size(phone_jpeg):
    assert len(phone_jpeg) > 1_500_000  # the realistic case the timings are about
    info = inspect_image(phone_jpeg, "image/jpeg")
    assert (info.mime, info.format, info.width, info.height) == ("image/jpeg", "JPEG", 4000, 3000)


@pytest.mark.parametrize(
    ("data", "declared_type", "fmt"),
    [
        (make_jpeg(640, 480, progressive=True), "image/jpeg", "JPEG"),
        (make_png(640, 480), "image/png", "PNG"),
        (make_png(640, 480, alpha=True), "image/png", "PNG"),
        (make_webp(640, 480), "image/webp", "WEBP"),
        (make_webp(640, 480, lossless=True), "image/webp", "WEBP"),
    ],
    ids=["progressive-jpeg", "png", "png-alpha", "webp", "webp-lossless"],
)
def test_jpeg_png_and_webp_are_accepted(data, declared_type, fmt):
    info = inspect_image(data, declared_type)
    assert (info.mime, info.format, info.width, info.height) == (declared_type, fmt, 640, 480)


def test_multi_picture_jpeg_is_accepted_as_jpeg():
    # MPO: a JPEG followed by more JPEGs (some phones' depth or burst shots); Pillow calls it MPO
    out = io.BytesIO()
    photo_like(640, 480).save(
        out, "MPO", save_all=True, append_images=[photo_like(640, 480, seed=1)]
    )
    info = inspect_image(out.getvalue(), "image/jpeg")
    assert (info.format, info.width, info.height) == ("JPEG", 640, 480)
    assert make_derivatives(out.getvalue())["display"].width == 640


def test_declared_type_is_read_without_case_or_parameters():
    info = inspect_image(make_png(64, 48), " Image/PNG; charset=binary")
    assert info.mime == "image/png"


# --- inspect_image: what is refused -------------------------------------------------------------


def test_unsupported_content_type_is_rejected_even_when_the_bytes_are_an_image():
    assert _refusal(make_gif(), "image/gif").code == UNSUPPORTED_TYPE
    assert _refusal(make_jpeg(64, 48), "application/octet-stream").code == UNSUPPORTED_TYPE
    assert _refusal(make_jpeg(64, 48), "").code == UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    "data", [b"", b"Hello, this is not a photo.\n" * 100, b"\xff\xd8"], ids=["empty", "text", "soi"]
)
def test_bytes_that_are_no_image_are_rejected_as_not_an_image(data):
    assert _refusal(data, "image/jpeg").code == NOT_AN_IMAGE


def test_jpeg_declared_as_png_is_rejected_as_not_an_image():
    error = _refusal(make_jpeg(64, 48), "image/png")
    assert error.code == NOT_AN_IMAGE
    assert "JPEG" in error.message


def test_gif_declared_as_jpeg_is_rejected_as_not_an_image():
    assert _refusal(make_gif(), "image/jpeg").code == NOT_AN_IMAGE


def test_truncated_jpeg_is_rejected_as_not_an_image(phone_jpeg):
    assert _refusal(phone_jpeg[: len(phone_jpeg) // 2], "image/jpeg").code == NOT_AN_IMAGE


def test_truncated_progressive_jpeg_is_rejected_as_not_an_image():
    data = make_jpeg(1600, 1200, progressive=True)
    assert _refusal(data[: len(data) * 3 // 4], "image/jpeg").code == NOT_AN_IMAGE


def test_jpeg_missing_only_its_last_kilobyte_is_rejected_as_not_an_image(phone_jpeg):
    # decoding at 1/8 scale still reads every entropy-coded byte
    assert _refusal(phone_jpeg[:-1024], "image/jpeg").code == NOT_AN_IMAGE


def test_jpeg_header_without_image_data_is_rejected_as_not_an_image():
    data = make_jpeg(64, 48)
    assert _refusal(data[: data.index(b"\xff\xda")], "image/jpeg").code == NOT_AN_IMAGE


@pytest.mark.parametrize("cut", ["half", "no-iend"])
def test_truncated_png_is_rejected_as_not_an_image(cut):
    data = make_png(640, 480)
    truncated = data[: len(data) // 2] if cut == "half" else data[:-12]
    assert _refusal(truncated, "image/png").code == NOT_AN_IMAGE


def test_png_damaged_in_transit_is_rejected_as_not_an_image():
    data = bytearray(make_png(640, 480))
    data[len(data) // 2] ^= 0x55  # inside IDAT: the chunk's CRC no longer matches
    assert _refusal(bytes(data), "image/png").code == NOT_AN_IMAGE


def test_truncated_webp_is_rejected_as_not_an_image():
    data = make_webp(640, 480)
    assert _refusal(data[: len(data) // 2], "image/webp").code == NOT_AN_IMAGE


def test_20000_by_20000_png_is_refused_from_its_header_as_too_many_pixels(pillow_opened):
    bomb = make_bomb_png(20000, 20000)
    assert len(bomb) < 100_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor may Pillow's DecompressionBombWarning escape
        error = _refusal(bomb, "image/png")
    assert pillow_opened == []  # fast whatever the machine: nothing was read past the header
    assert error.code == TOO_MANY_PIXELS
    assert "20000×20000" in error.message


def test_pillows_own_bomb_limit_applies_even_when_max_pixels_is_higher():
    # 100 MP lies between Pillow's warning (89.5 MP) and error (179 MP) limits
    bomb = make_bomb_png(10000, 10000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = _refusal(bomb, "image/png", max_pixels=10**12)
    assert error.code == TOO_MANY_PIXELS


def test_max_pixels_is_checked_before_decoding():
    assert _refusal(make_png(640, 480), "image/png", max_pixels=100_000).code == TOO_MANY_PIXELS
    assert inspect_image(make_png(640, 480), "image/png", max_pixels=640 * 480).width == 640


def test_jpeg_whose_header_claims_a_huge_frame_is_refused_as_too_many_pixels(pillow_opened):
    data = bytearray(make_jpeg(64, 48))
    inspect_image(bytes(data), "image/jpeg")
    assert pillow_opened == [len(data)]  # with its true header Pillow opens and decodes it
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60000, 60000)  # height, width
    assert _refusal(bytes(data), "image/jpeg").code == TOO_MANY_PIXELS
    assert pillow_opened == [len(data)]  # with a huge one Pillow never sees it


def test_photo_error_keeps_code_and_message_through_pickling():
    error = pickle.loads(pickle.dumps(PhotoError(NOT_AN_IMAGE, "Broken.")))
    assert (error.code, error.message) == (NOT_AN_IMAGE, "Broken.")


# --- read_exif ---------------------------------------------------------------------------------


def test_exif_gives_aware_capture_time_and_position_within_a_metre(phone_jpeg):
    exif = read_exif(phone_jpeg)
    assert exif.taken_at == TAKEN_AT
    assert exif.taken_at.utcoffset() == timedelta(hours=8)
    assert distance_m(exif.lon, exif.lat, TIANANMEN[1], TIANANMEN[0]) < 1.0
    assert exif.orientation == 6


def test_exif_capture_time_without_offset_is_naive():
    exif = read_exif(make_jpeg(64, 48, taken_at=datetime(2024, 5, 1, 9, 0)))
    assert exif.taken_at == datetime(2024, 5, 1, 9, 0)
    assert exif.taken_at.tzinfo is None


def test_exif_position_south_and_west_is_negative():
    exif = read_exif(make_jpeg(64, 48, gps=(-22.9519, -43.2105)))
    assert distance_m(exif.lon, exif.lat, -43.2105, -22.9519) < 1.0


@pytest.mark.parametrize(
    "data",
    [make_jpeg(64, 48), make_png(64, 48), make_webp(64, 48), b"", b"not an image"],
    ids=["jpeg", "png", "webp", "empty", "text"],
)
def test_images_without_exif_and_junk_give_all_none(data):
    exif = read_exif(data)
    assert (exif.taken_at, exif.lat, exif.lon, exif.orientation) == (None, None, None, None)


def test_malformed_exif_values_give_none_for_that_field_only():
    exif = Image.Exif()
    exif[0x0112] = 42  # orientation out of 1..8
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "    :  :     :  :  "  # DateTimeOriginal left blank, as cameras do
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (39.0, 54.0, 58.68), 3: "E"})  # longitude missing
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "JPEG", exif=exif.tobytes())
    assert read_exif(out.getvalue()) == read_exif(b"")


def test_out_of_range_offset_leaves_the_capture_time_naive():
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: "2024:05:01 14:30:05", 0x9011: "+99:00"})
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "JPEG", exif=exif.tobytes())
    assert read_exif(out.getvalue()).taken_at == datetime(2024, 5, 1, 14, 30, 5)


def test_zero_denominator_gps_gives_no_position():
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    zero = IFDRational(1, 0)
    exif.get_ifd(0x8825).update({1: "N", 2: (zero, zero, zero), 3: "E", 4: (116.0, 0.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "JPEG", exif=exif.tobytes())
    exif_info = read_exif(out.getvalue())
    assert (exif_info.lat, exif_info.lon) == (None, None)


@pytest.mark.parametrize(
    "payload",
    [b"Exif\x00\x00II*\x00" + bytes(range(256)) * 4, b"Exif\x00\x00MM\x00*\xff\xff\xff\xff"],
    ids=["garbage-ifd", "offset-past-end"],
)
def test_garbage_exif_segment_never_raises(payload):
    data = make_jpeg(64, 48)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow may say "Corrupt EXIF data"; we must not raise
        exif = read_exif(data[:2] + app1 + data[2:])
    assert exif.lat is None and exif.lon is None


# --- make_derivatives --------------------------------------------------------------------------


def test_derivatives_have_the_requested_long_side_and_are_turned_upright(phone_jpeg):
    derivatives = make_derivatives(phone_jpeg)
    assert set(derivatives) == {"thumb", "display"}
    display, thumb = derivatives["display"], derivatives["thumb"]
    assert (display.width, display.height) == (1200, 1600)  # orientation 6: portrait
    assert (thumb.width, thumb.height) == (240, 320)
    assert _decoded(display.data).size == (1200, 1600)
    assert _decoded(thumb.data).size == (240, 320)


def test_orientation_6_puts_the_stored_top_left_at_the_top_right():
    stored = Image.new("RGB", (400, 300), "white")
    stored.paste((255, 0, 0), (0, 0, 100, 75))
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=95, exif=exif_bytes(orientation=6))
    display = _decoded(make_derivatives(out.getvalue())["display"].data)
    assert display.size == (300, 400)
    red, green, blue = display.getpixel((300 - 20, 20))
    assert red > 200 and green < 60 and blue < 60
    assert display.getpixel((20, 20)) >= (230, 230, 230)


def test_derivatives_carry_no_metadata_at_all():
    original = make_jpeg(
        2000, 1500, gps=TIANANMEN, taken_at=TAKEN_AT, orientation=6,
        comment=b"worker 17, grid 110101", icc_profile=display_p3_icc(),
    )  # fmt: skip
    for derivative in make_derivatives(original).values():
        # only JFIF (APP0), tables, the frame and the scan: no APP1 (EXIF/XMP), APP2 (ICC), COM
        assert set(_jpeg_markers(derivative.data)) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xDA}
        im = Image.open(io.BytesIO(derivative.data))
        assert not im.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(im.info)
        assert b"110101" not in derivative.data


def test_small_images_are_not_upscaled():
    derivatives = make_derivatives(make_jpeg(800, 600))
    assert (derivatives["display"].width, derivatives["display"].height) == (800, 600)
    assert (derivatives["thumb"].width, derivatives["thumb"].height) == (320, 240)
    tiny = make_derivatives(make_png(100, 50))
    assert (tiny["thumb"].width, tiny["thumb"].height) == (100, 50)


def test_sizes_and_quality_can_be_chosen():
    derivatives = make_derivatives(make_jpeg(1000, 500), thumb_px=100, display_px=600, quality=60)
    assert (derivatives["display"].width, derivatives["display"].height) == (600, 300)
    assert (derivatives["thumb"].width, derivatives["thumb"].height) == (100, 50)


def test_transparent_png_is_composited_on_white():
    derivatives = make_derivatives(make_png(640, 480, alpha=True))
    display = _decoded(derivatives["display"].data)
    assert display.mode == "RGB"
    assert min(display.getpixel((40, 240))) >= 250  # the transparent left half
    assert min(display.getpixel((600, 240))) < 250  # the opaque right half keeps its colours


def test_display_p3_photo_is_converted_to_srgb():
    colour = (180, 120, 60)
    tagged, untagged = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(
        tagged, "JPEG", quality=95, icc_profile=display_p3_icc()
    )
    Image.new("RGB", (64, 64), colour).save(untagged, "JPEG", quality=95)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), colour),
        ImageCms.ImageCmsProfile(io.BytesIO(display_p3_icc())),
        ImageCms.createProfile("sRGB"),
    ).getpixel((0, 0))
    converted = _decoded(make_derivatives(tagged.getvalue())["display"].data).getpixel((32, 32))
    kept = _decoded(make_derivatives(untagged.getvalue())["display"].data).getpixel((32, 32))
    assert max(abs(a - b) for a, b in zip(converted, expected, strict=True)) <= 3
    assert max(abs(a - b) for a, b in zip(kept, colour, strict=True)) <= 3
    assert max(abs(a - b) for a, b in zip(converted, colour, strict=True)) >= 8


def test_16_bit_grey_png_is_scaled_to_8_bits_not_clipped():
    out = io.BytesIO()
    Image.new("I;16", (64, 48), 32768).save(out, "PNG")
    display = _decoded(make_derivatives(out.getvalue())["display"].data)
    assert all(120 <= channel <= 136 for channel in display.getpixel((32, 24)))


def test_cmyk_jpeg_becomes_rgb():
    out = io.BytesIO()
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(out, "JPEG")
    display = _decoded(make_derivatives(out.getvalue())["display"].data)
    assert display.mode == "RGB"


def test_derivatives_of_a_truncated_jpeg_raise_not_an_image(phone_jpeg):
    with pytest.raises(PhotoError) as caught:
        make_derivatives(phone_jpeg[: len(phone_jpeg) // 2])
    assert caught.value.code == NOT_AN_IMAGE


def test_derivatives_refuse_a_pixel_bomb():
    with pytest.raises(PhotoError) as caught:
        make_derivatives(make_bomb_png(20000, 20000))
    assert caught.value.code == TOO_MANY_PIXELS


# --- distance_m, sha256_hex --------------------------------------------------------------------


def test_one_degree_of_latitude_is_111_195_metres():
    assert distance_m(116.3972, 39.0, 116.3972, 40.0) == pytest.approx(111_195.08, abs=0.01)


def test_distance_is_zero_for_one_point_and_symmetric():
    lat, lon = TIANANMEN
    assert distance_m(lon, lat, lon, lat) == 0.0
    there = (116.4074, 39.9042)
    assert distance_m(lon, lat, *there) == distance_m(*there, lon, lat)
    assert 1_000 < distance_m(lon, lat, *there) < 2_000


def test_sha256_hex_is_the_lower_case_hex_digest():
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


# --- storage -----------------------------------------------------------------------------------

DIGEST = sha256_hex(b"photo")


def test_key_helpers_fan_out_by_hash_prefix():
    assert original_key(DIGEST, "jpg") == f"originals/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}.jpg"
    assert original_key(DIGEST.upper(), ".PNG").endswith(f"{DIGEST}.png")
    assert derivative_key(DIGEST, "thumb") == (
        f"derived/thumb/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}.jpg"
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: original_key("abc", "jpg"),
        lambda: original_key(DIGEST, "j/pg"),
        lambda: original_key(DIGEST, ""),
        lambda: derivative_key(DIGEST, "../thumb"),
    ],
)
def test_key_helpers_reject_malformed_input(call):
    with pytest.raises(ValueError):
        call()


def test_storage_put_get_exists_delete_round_trip(tmp_path):
    storage = LocalPhotoStorage(tmp_path / "media")
    key = original_key(DIGEST, "jpg")
    assert not storage.exists(key)
    storage.put(key, b"photo", "image/jpeg")
    assert storage.exists(key)
    assert storage.get(key) == b"photo"
    path = storage.path_for(key)
    assert path == str(tmp_path / "media" / key)
    with open(path, "rb") as f:
        assert f.read() == b"photo"
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(KeyError):
        storage.get(key)
    storage.delete(key)  # deleting what is gone is fine


def test_storage_root_is_created_on_first_put(tmp_path):
    root = tmp_path / "not" / "yet"
    storage = LocalPhotoStorage(root)
    assert not root.exists()
    storage.put("a/b.jpg", b"x", "image/jpeg")
    assert (root / "a" / "b.jpg").read_bytes() == b"x"


def test_get_of_a_directory_key_raises_key_error(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    storage.put("a/b.jpg", b"x", "image/jpeg")
    with pytest.raises(KeyError):
        storage.get("a")
    assert not storage.exists("a")


@pytest.mark.parametrize(
    "key",
    ["../x", "a/../b", "a/..", "/etc/passwd", "A/b.jpg", "a b", "a\\b", "a//b", "a/", "",
     ".tmp-x", "a/./b", "photo.JPG", "ü.jpg", "a" * 1025],
)  # fmt: skip
def test_storage_rejects_unsafe_keys(tmp_path, key):
    storage = LocalPhotoStorage(tmp_path / "media")
    for call in (
        lambda: storage.put(key, b"x", "image/jpeg"),
        lambda: storage.get(key),
        lambda: storage.exists(key),
        lambda: storage.path_for(key),
        lambda: storage.delete(key),
    ):
        with pytest.raises(ValueError):
            call()
    assert not (tmp_path / "x").exists()


def test_put_replaces_the_object_and_leaves_no_temporary_file(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    storage.put("a/b.jpg", b"first", "image/jpeg")
    storage.put("a/b.jpg", b"second", "image/jpeg")
    storage.put("a/b.jpg", b"second", "image/jpeg")  # idempotent
    assert storage.get("a/b.jpg") == b"second"
    assert os.listdir(tmp_path / "a") == ["b.jpg"]
    assert (os.stat(tmp_path / "a" / "b.jpg").st_mode & 0o777) == 0o644


def test_concurrent_puts_of_the_same_key_leave_one_complete_file(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    key = derivative_key(DIGEST, "display")
    payloads = [bytes([i]) * 2_000_000 for i in range(8)]
    start = threading.Barrier(len(payloads))
    errors = []

    def put(payload: bytes) -> None:
        try:
            start.wait()
            storage.put(key, payload, "image/jpeg")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert storage.get(key) in payloads
    assert os.listdir(os.path.dirname(storage.path_for(key))) == [f"{DIGEST}.jpg"]


def test_a_reader_never_sees_a_half_written_object(tmp_path):
    storage = LocalPhotoStorage(tmp_path)
    old, new = b"o" * 4_000_000, b"n" * 4_000_000
    storage.put("k.jpg", old, "image/jpeg")
    done = threading.Event()
    seen = set()

    def read() -> None:
        while not done.is_set():
            data = storage.get("k.jpg")
            seen.add((len(data), data[:1], data[-1:]))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(5):
        storage.put("k.jpg", new, "image/jpeg")
        storage.put("k.jpg", old, "image/jpeg")
    done.set()
    reader.join()
    assert seen <= {(4_000_000, b"o", b"o"), (4_000_000, b"n", b"n")}


# --- a large WebP is decoded outside the request, with a memory ceiling ----------------------

def test_a_webp_past_the_in_request_limit_is_not_decoded_in_the_request(monkeypatch):
    import gridsnap.photos.imaging as imaging

    data = make_webp(300, 200, lossless=True)
    monkeypatch.setattr(imaging, "IN_REQUEST_DECODE_PIXELS", 300 * 200 - 1)

    def no_decode(self, *args, **kwargs):
        raise AssertionError("decoded inside the request")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr(imaging.ImageFile.ImageFile, "load", no_decode)
    info = inspect_image(data, "image/webp")
    assert (info.width, info.height) == (300, 200)
    # still whole: a cut one is refused from its RIFF length
    assert _refusal(data[:-10], "image/webp").code == NOT_AN_IMAGE


def test_a_large_image_is_decoded_in_a_child_within_a_memory_ceiling(monkeypatch):
    import gridsnap.photos.imaging as imaging

    data = make_webp(600, 400, lossless=True)
    monkeypatch.setattr(imaging, "IN_REQUEST_DECODE_PIXELS", 1000)
    made = imaging.make_derivatives_bounded(data, memory_bytes=256 * 1024 * 1024)
    assert (made["display"].width, made["display"].height) == (600, 400)
    big = make_webp(3000, 2000)  # ~24 MB of pixels decoded: far past a 1 MiB ceiling
    with pytest.raises(PhotoError) as refused:
        imaging.make_derivatives_bounded(big, memory_bytes=1024 * 1024)
    assert refused.value.code == TOO_MANY_PIXELS
