"""The child process in which a large photo is decoded: `python -m gridsnap.photos.decoder`.

A fresh interpreter, not a fork of the worker: a long-lived worker's heap holds memory freed by
earlier photos, and a forked child reuses it without growing its address space, so a ceiling set
on a fork does not bite (seen after one 12 MP photo in the same process). Here the address space
measured after start-up is the child's own, and the ceiling is that plus the allowance.

Reads a pickle (data, max_pixels, memory_bytes, kwargs) from stdin and writes a pickle
("ok", derivatives) or ("error", (code, message)) to stdout.
"""

from __future__ import annotations

import pickle
import resource
import sys

from .imaging import TOO_MANY_PIXELS, PhotoError, make_derivatives

_TOO_LARGE = (TOO_MANY_PIXELS, "The image is too large to process.")


def _cap_address_space(memory_bytes: int) -> None:
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    limit = used + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    data, max_pixels, memory_bytes, kwargs = pickle.load(sys.stdin.buffer)
    try:
        _cap_address_space(memory_bytes)
        answer = ("ok", make_derivatives(data, max_pixels=max_pixels, **kwargs))
    except PhotoError as exc:
        answer = ("error", (exc.code, exc.message))
    except Exception:  # MemoryError, or libwebp refusing what it cannot allocate (an OSError)
        answer = ("error", _TOO_LARGE)
    del data
    sys.stdout.buffer.write(pickle.dumps(answer))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
