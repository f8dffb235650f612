"""Where photo bytes live: a small object-store interface and its local-directory implementation.

Keys look like S3 object keys ("originals/ab/cd/<sha256>.jpg"), so an S3-compatible store can
implement PhotoStorage later without changing callers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

MAX_KEY_LENGTH = 1024  # S3's limit
_KEY = re.compile(r"[a-z0-9._-]+(?:/[a-z0-9._-]+)*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXT = re.compile(r"[a-z0-9]{1,10}")
_SIZE = re.compile(r"[a-z0-9_-]{1,32}")
_FILE_MODE = 0o644  # mkstemp makes 0600; a web server or backup user may need to read photos


class PhotoStorage(Protocol):
    """An object store for photo bytes, addressed by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there. Idempotent, and atomic: a
        reader sees the old object or the new one, never part of one. Durable on return."""
        ...

    def get(self, key: str) -> bytes:
        """Return the object's bytes. Raises KeyError if there is none."""
        ...

    def exists(self, key: str) -> bool:
        """Return whether an object is stored under `key`."""
        ...

    def path_for(self, key: str) -> str | None:
        """Return a local file path to serve the object from (send_file), or None for a
        remote store, whose callers use get() or a redirect."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error if there is none."""
        ...

    def free_bytes(self) -> int | None:
        """Room left for new objects, or None where the store has no such limit (S3)."""
        ...


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative object key, else raise ValueError.

    Allowed: segments of [a-z0-9._-] joined by "/", none of them empty or starting with "."
    (which rules out ".", "..", hidden files and our temporary files), no "..", at most
    MAX_KEY_LENGTH characters.
    """
    if (
        not isinstance(key, str)
        or len(key) > MAX_KEY_LENGTH
        or ".." in key
        or not _KEY.fullmatch(key)
        or any(segment.startswith(".") for segment in key.split("/"))
    ):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def original_key(sha256_hex: str, ext: str) -> str:
    """Return "originals/ab/cd/<sha256>.<ext>" for an original with that content hash.

    Raises ValueError unless `sha256_hex` is 64 hex digits and `ext` 1–10 letters or digits
    (case and a leading dot are forgiven).
    """
    digest = _check_sha256(sha256_hex)
    ext = ext.lower().removeprefix(".")
    if not _EXT.fullmatch(ext):
        raise ValueError(f"invalid file extension {ext!r}")
    return f"originals/{digest[:2]}/{digest[2:4]}/{digest}.{ext}"


def derivative_key(sha256_hex: str, size: str) -> str:
    """Return "derived/<size>/ab/cd/<sha256>.jpg" for the `size` ("thumb", "display") JPEG
    made from the original with that content hash. Raises ValueError on a malformed argument."""
    digest = _check_sha256(sha256_hex)
    if not _SIZE.fullmatch(size):
        raise ValueError(f"invalid derivative size {size!r}")
    return f"derived/{size}/{digest[:2]}/{digest[2:4]}/{digest}.jpg"


def _check_sha256(sha256_hex: str) -> str:
    digest = sha256_hex.lower()
    if not _SHA256.fullmatch(digest):
        raise ValueError(f"not a SHA-256 hex digest: {sha256_hex!r}")
    return digest


class LocalPhotoStorage:
    """PhotoStorage in a local directory (created on demand); the key is the relative path.

    Writes go to a temporary file in the target's directory, are fsynced, renamed over the
    target with os.replace and the directory is fsynced, so a crash leaves the old object or
    the new one. The content type is not kept: the key's extension tells it.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"LocalPhotoStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        directory = path.parent
        self._make_dirs(directory)
        # A leftover ".tmp-…" file means a crash mid-write; keys can't start with ".", so a
        # sweep may delete such files when they are old.
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
        try:
            with open(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fchmod(tmp.fileno(), _FILE_MODE)
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(directory)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def path_for(self, key: str) -> str | None:
        """The file's path (whether or not it exists yet)."""
        return str(self._path(key))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)
        # Empty directories stay: removing them would race with a put into the same one.

    def free_bytes(self) -> int | None:
        """Free space on the file system of the root (or of its nearest existing parent)."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        return shutil.disk_usage(path).free

    def _make_dirs(self, directory: Path) -> None:
        """Create `directory` and missing parents, fsyncing each new entry's parent."""
        if directory.is_dir():
            return
        missing = []
        current = directory
        while not current.is_dir():
            missing.append(current)
            current = current.parent
        for new in reversed(missing):
            with contextlib.suppress(FileExistsError):  # a concurrent put made it
                new.mkdir()
            _fsync_dir(new.parent)


class UploadLocked(Exception):
    """Another request is appending to this upload right now."""


class PartialFile:
    """The bytes of one resumable upload so far, open and exclusively locked."""

    def __init__(self, file) -> None:
        self._file = file

    def size(self) -> int:
        return os.fstat(self._file.fileno()).st_size

    def write_at(self, offset: int, chunks: Iterable[bytes], limit: int) -> int:
        """Cut the file to `offset` (bytes past it were never acknowledged), append the chunks
        until they end or `limit` bytes were written, fsync, and return how many were written.
        The chunks may stop early (a cut connection): what arrived is kept."""
        self._file.truncate(offset)
        self._file.seek(offset)
        written = 0
        try:
            for chunk in chunks:
                chunk = chunk[:limit - written]
                self._file.write(chunk)
                written += len(chunk)
                if written >= limit:
                    break
        finally:
            self._file.flush()
            os.fsync(self._file.fileno())
        return written

    def read(self, length: int) -> bytes:
        self._file.seek(0)
        return self._file.read(length)


class PartialUploads:
    """Resumable uploads in progress: one file per upload, `<root>/<upload id>.part`.

    Local files, also when photos go to an object store later: a partial upload is appended
    to in place, which object stores cannot do. An upload is written by one request at a
    time (an exclusive flock, which also holds between the threads of one process).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"PartialUploads({str(self.root)!r})"

    def _path(self, upload_id: uuid.UUID) -> Path:
        return self.root / f"{uuid.UUID(str(upload_id))}.part"

    @contextlib.contextmanager
    def locked(self, upload_id: uuid.UUID) -> Iterator[PartialFile]:
        """The upload's file (created empty if missing), locked for this block.
        Raises UploadLocked when another request holds it."""
        path = self._path(upload_id)
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        with open(fd, "r+b", buffering=0) as file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadLocked(str(upload_id)) from None
            yield PartialFile(file)

    def delete(self, upload_id: uuid.UUID) -> None:
        """Remove the upload's file; no error if there is none."""
        with contextlib.suppress(FileNotFoundError):
            self._path(upload_id).unlink()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
