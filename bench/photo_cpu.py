"""CPU per phone photo: what the follow-up job spends on a photo's derivatives, next to what
Pillow itself spends decoding the same file, in the same run.

    python -m bench.photo_cpu [--quick]   # bench.run calls run(quick)

In-process, no services. The photos are the storm's (bench.photos): 12-megapixel noisy JPEGs
of ~2 MB with EXIF GPS, and the same made at 24 megapixels (past the 16 MP after which the job
decodes in a fresh interpreter, gridsnap.photos.decoder). For each, CPU seconds (this process's
`time.process_time`, and its children's from `resource.getrusage` for the fresh interpreter)
of, best of N:

- the job's image work: `read_exif` and `make_derivatives_bounded` (thumb 320 px, display
  1600 px; a JPEG decoded once at the largest libjpeg scale that still covers 1600 px);
- the upload's check in the request: `inspect_image` (a decode at 1/8 scale);
- baselines: Pillow decoding the whole file at full size (what the job would cost without its
  reduced-scale decode), and at the scale the job asks for (the floor the library allows for
  that decode: what the job adds to it is turning, colour, two Lanczos shrinks and two encodes).

Rows: {name, value, unit, note}; quick=True: 2 repetitions instead of 7.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time

from PIL import Image

from . import photos as bench_photos
from .env import REPO_ROOT

LAT, LON = 39.9042, 116.4074
RUNS, QUICK_RUNS = 7, 2


def say(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


def row(name: str, value: float, unit: str, note: str = "") -> dict:
    return {"name": name, "value": value, "unit": unit, "note": note}


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the fresh interpreter)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _best_ms(fn, runs: int) -> tuple[float, float]:
    """(best, median) CPU milliseconds of `fn()` over `runs` runs."""
    out = []
    for _ in range(runs):
        t = _cpu()
        fn()
        out.append((_cpu() - t) * 1000)
    return min(out), statistics.median(out)


def _photo(width: int, height: int) -> bytes:
    saved = bench_photos.WIDTH, bench_photos.HEIGHT
    bench_photos.WIDTH, bench_photos.HEIGHT = width, height
    try:
        return bench_photos.PhotoSet(1, lat=LAT, lon=LON).photo(1)
    finally:
        bench_photos.WIDTH, bench_photos.HEIGHT = saved


def _decode(data: bytes, draft: tuple[int, int] | None) -> None:
    with Image.open(io.BytesIO(data)) as im:
        if draft is not None:
            im.draft(None, draft)
        im.load()


def bench(runs: int) -> list[dict]:
    from gridsnap.photos import imaging

    rows: list[dict] = []
    for label, (w, h) in (("12 MP", (4000, 3000)), ("24 MP", (6000, 4000))):
        data = _photo(w, h)
        mb = len(data) / 1e6
        draft = imaging._draft_size((w, h), 1600)
        with Image.open(io.BytesIO(data)) as im:
            im.draft(None, draft)
            scaled = im.size

        def job(data=data):
            imaging.read_exif(data)
            imaging.make_derivatives_bounded(data)

        job()  # imports, the colour management's first use
        job_best, job_med = _best_ms(job, runs)
        check_best, _ = _best_ms(lambda data=data: imaging.inspect_image(data, "image/jpeg"),
                                 runs)
        full_best, _ = _best_ms(lambda data=data: _decode(data, None), runs)
        scaled_best, _ = _best_ms(lambda data=data, d=draft: _decode(data, d), runs)
        fresh = w * h > imaging.IN_REQUEST_DECODE_PIXELS
        tag = label.replace(" ", "").lower()
        say(f"  {label} ({mb:.2f} MB): job {job_best:.0f} ms (median {job_med:.0f}), upload "
            f"check {check_best:.0f} ms; Pillow full decode {full_best:.0f} ms, decode at "
            f"{scaled[0]}×{scaled[1]} {scaled_best:.0f} ms")
        rows += [
            row(f"photo {label}: derivatives job CPU per photo", job_best, "ms",
                f"{mb:.2f} MB JPEG {w}×{h} with EXIF GPS; read_exif + make_derivatives_bounded "
                f"(thumb 320, display 1600), best of {runs}, median {job_med:.0f} ms"
                + ("; decoded in a fresh interpreter (past 16 MP): its start counted"
                   if fresh else "; decoded in the worker (≤ 16 MP)")),
            row(f"photo.{tag}.upload_check", check_best, "ms",
                "inspect_image in the upload request (a decode at 1/8 scale)"),
            row(f"photo.{tag}.pillow_full_decode", full_best, "ms",
                "baseline: Pillow decoding the whole file at full size"),
            row(f"photo.{tag}.pillow_scaled_decode", scaled_best, "ms",
                f"baseline: Pillow decoding it at {scaled[0]}×{scaled[1]}, the scale the job "
                "asks libjpeg for"),
            row(f"photo {label}: derivatives job / Pillow full decode", job_best / full_best,
                "×", "the job against decoding the photo whole, same run"),
            row(f"photo.{tag}.job_vs_scaled_decode", job_best / scaled_best, "×",
                "the job against its own decode alone: what turning, colour, the two shrinks "
                "and the two encodes add"),
        ]
    return rows


def run(quick: bool) -> list[dict]:
    return bench(QUICK_RUNS if quick else RUNS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.photo_cpu",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} repetitions")
    args = ap.parse_args(argv)
    for r in run(args.quick):
        print(f"{r['name']:<55} {r['value']:>10,.2f} {r['unit']:<4} {r['note']}")
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
