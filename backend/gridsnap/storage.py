"""Where photo bytes live: a small object-store interface, its local-directory implementation
and its S3-compatible one (boto3), chosen by GRIDSNAP_PHOTO_STORE (open_store).

Keys look like S3 object keys ("originals/ab/cd/<sha256>.jpg"), the same in both stores, so
`gridsnap photos migrate` copies a local store into a bucket key for key.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

MAX_KEY_LENGTH = 1024  # S3's limit
_KEY = re.compile(r"[a-z0-9._-]+(?:/[a-z0-9._-]+)*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXT = re.compile(r"[a-z0-9]{1,10}")
_SIZE = re.compile(r"[a-z0-9_-]{1,32}")
_FILE_MODE = 0o644  # mkstemp makes 0600; a web server or backup user may need to read photos


class StoreUnavailable(OSError):
    """The object store cannot answer now (unreachable, timing out, answering 5xx, refusing our
    credentials): a passing fault like an outage of PostgreSQL. An upload is answered 503 with
    Retry-After (nothing acknowledged), a follow-up job waits with back-off (outbox.rules)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EAGAIN, message)


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

    def url_for(self, key: str, *, expires_s: int, content_type: str,
                disposition: str | None = None) -> str | None:
        """A short-lived URL that reads the object without credentials (an S3 presigned GET,
        answering with `content_type` and `disposition`), or None for a local store."""
        ...

    def iter_keys(self) -> Iterator[str]:
        """Every stored key (for a migration), in no particular order."""
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

    def url_for(self, key: str, *, expires_s: int, content_type: str,
                disposition: str | None = None) -> str | None:
        return None

    def iter_keys(self) -> Iterator[str]:
        """Every stored object's key (temporary ".tmp-" files and the uploads/ folder of
        resumable uploads are not objects)."""
        for directory, subdirs, files in os.walk(self.root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            if directory == str(self.root) and "uploads" in subdirs:
                subdirs.remove("uploads")
            for name in sorted(files):
                key = os.path.relpath(os.path.join(directory, name), self.root)
                with contextlib.suppress(ValueError):
                    yield validate_key(key)

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


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class S3PhotoStorage:
    """PhotoStorage in a bucket of an S3-compatible store, under a key prefix.

    The connection comes from the standard variables boto3 reads (AWS_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), or from `options` (tests). Objects
    are private (no ACL is granted); a client reads one through url_for's presigned GET. Every
    put sends Content-MD5, so the store refuses bytes that arrived damaged, and records the
    SHA-256 as metadata (sha256) for `gridsnap photos migrate` to verify against. Failures
    other than "no such key" raise StoreUnavailable.
    """

    def __init__(self, bucket: str, prefix: str = "",
                 options: Mapping[str, str] | None = None) -> None:
        import boto3
        from botocore.config import Config

        opts = dict(options or {})
        endpoint = opts.get("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL") or None
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint = endpoint
        self._client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint,
            region_name=(opts.get("region") or os.environ.get("AWS_REGION")
                         or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"),
            aws_access_key_id=opts.get("access_key_id") or None,
            aws_secret_access_key=opts.get("secret_access_key") or None,
            config=Config(
                # a store of one's own (SeaweedFS, MinIO, Ceph) answers on its own host name:
                # the bucket goes in the path; AWS itself prefers the bucket's host name
                s3={"addressing_style": "path" if endpoint else "auto"},
                signature_version="s3v4",
                # an outage is answered quickly (a 503 for the phone, a postponed job), not
                # after boto3's default minute of retries
                connect_timeout=2, read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
                # integrity by Content-MD5, which every S3-compatible store checks; the newer
                # flexible checksums are not spoken by all of them
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ))

    def __repr__(self) -> str:
        return f"S3PhotoStorage(s3://{self.bucket}/{self.prefix})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _unavailable(self, exc: Exception, what: str) -> StoreUnavailable:
        return StoreUnavailable(f"object store s3://{self.bucket}: {what}: "
                                f"{type(exc).__name__}: {exc}")

    def _call(self, what: str, fn, **kw):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchKey", "404", "NotFound") or (status == 404
                                                            and code != "NoSuchBucket"):
                raise KeyError(kw.get("Key", "")[len(self.prefix):]) from None
            raise self._unavailable(exc, what) from exc
        except BotoCoreError as exc:  # no connection, a time-out, a cut read
            raise self._unavailable(exc, what) from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call("put", self._client.put_object, Key=self._key(key), Body=data,
                   ContentType=content_type, ContentMD5=_md5_b64(data),
                   Metadata={"sha256": hashlib.sha256(data).hexdigest()})

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError

        body = self._call("get", self._client.get_object, Key=self._key(key))["Body"]
        try:
            return body.read()
        except BotoCoreError as exc:
            raise self._unavailable(exc, "get") from exc
        finally:
            body.close()

    def head(self, key: str) -> dict | None:
        """{size, etag, sha256} of the object (sha256 as recorded at put), or None."""
        try:
            r = self._call("head", self._client.head_object, Key=self._key(key))
        except KeyError:
            return None
        return {"size": r["ContentLength"], "etag": r.get("ETag", "").strip('"'),
                "sha256": r.get("Metadata", {}).get("sha256")}

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def path_for(self, key: str) -> str | None:
        return None

    def delete(self, key: str) -> None:
        self._call("delete", self._client.delete_object, Key=self._key(key))

    def free_bytes(self) -> int | None:
        return None

    def check(self) -> None:
        """Raise StoreUnavailable unless the bucket answers (/health)."""
        self._call("check", self._client.head_bucket)

    def create_bucket(self) -> None:
        """Make the bucket if it is not there (development stores, tests, migrate); one made
        meanwhile by another process (two test workers, two nodes) is as good."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError:
            pass
        except BotoCoreError as exc:
            raise self._unavailable(exc, "create bucket") from exc
        try:
            self._client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou",
                                                                 "BucketAlreadyExists"):
                raise self._unavailable(exc, "create bucket") from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc, "create bucket") from exc

    def origin(self) -> str:
        """scheme://host[:port] of the presigned URLs (the front server fetches from it)."""
        parts = urlsplit(self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.prefix + "x"}, ExpiresIn=1))
        return f"{parts.scheme}://{parts.netloc}"

    def url_for(self, key: str, *, expires_s: int, content_type: str,
                disposition: str | None = None) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._key(key),
                  "ResponseContentType": content_type}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        return self._client.generate_presigned_url("get_object", Params=params,
                                                   ExpiresIn=expires_s)

    def iter_keys(self) -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", ()):
                yield obj["Key"][len(self.prefix):]


class FallbackStorage:
    """A store being moved into: writes go to `primary`, reads find an object in `primary` or
    else in `fallback` (the store it is moving from). While `gridsnap photos migrate` copies
    the old store's objects, every API node already writes to the new one and still serves the
    photos not copied yet (GRIDSNAP_PHOTO_STORE_FALLBACK): a move without downtime."""

    def __init__(self, primary: PhotoStorage, fallback: PhotoStorage) -> None:
        self.primary, self.fallback = primary, fallback

    def __repr__(self) -> str:
        return f"FallbackStorage({self.primary!r}, then {self.fallback!r})"

    def _holder(self, key: str) -> PhotoStorage:
        return self.primary if self.primary.exists(key) or not self.fallback.exists(
            key) else self.fallback

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.primary.put(key, data, content_type)

    def get(self, key: str) -> bytes:
        try:
            return self.primary.get(key)
        except KeyError:
            return self.fallback.get(key)

    def exists(self, key: str) -> bool:
        return self.primary.exists(key) or self.fallback.exists(key)

    def path_for(self, key: str) -> str | None:
        return self._holder(key).path_for(key)

    def url_for(self, key: str, *, expires_s: int, content_type: str,
                disposition: str | None = None) -> str | None:
        return self._holder(key).url_for(key, expires_s=expires_s, content_type=content_type,
                                         disposition=disposition)

    def delete(self, key: str) -> None:
        self.primary.delete(key)
        self.fallback.delete(key)

    def free_bytes(self) -> int | None:
        return self.primary.free_bytes()

    def origin(self) -> str:
        origin = getattr(self.primary, "origin", None)
        return origin() if origin else ""

    def iter_keys(self) -> Iterator[str]:
        return self.primary.iter_keys()


def migrate(source: PhotoStorage, target: S3PhotoStorage, *, on_key=None) -> dict[str, int]:
    """Copy every object of `source` into `target`, verified: returns counts {copied, present,
    failed}. Resumable and idempotent: an object already in the target with the same size and
    SHA-256 is left alone (present), so a run cut short is run again. A copy is sent with its
    Content-MD5 (the store refuses damaged bytes) and read back by HEAD: its size, MD5 (the
    ETag of a one-part upload) and recorded SHA-256 must be the source's, and an original's
    SHA-256 the one its key is named after. `on_key(key, outcome)` follows the progress."""
    counts = {"copied": 0, "present": 0, "failed": 0}
    for key in source.iter_keys():
        data = source.get(key)
        sha = hashlib.sha256(data).hexdigest()
        outcome = "copied"
        named = re.search(r"/([0-9a-f]{64})\.[a-z0-9]+$", key) if key.startswith(
            "originals/") else None
        if named and named.group(1) != sha:
            outcome = "failed"  # the source itself is damaged: not copied over a good object
        else:
            found = target.head(key)
            if found and found["size"] == len(data) and found["sha256"] == sha:
                outcome = "present"
            else:
                target.put(key, data, _content_type(key))
                found = target.head(key)
                md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
                if not (found and found["size"] == len(data) and found["sha256"] == sha
                        and found["etag"] in (md5, "")):
                    outcome = "failed"
        counts[outcome] += 1
        if on_key is not None:
            on_key(key, outcome)
    return counts


def _content_type(key: str) -> str:
    ext = key.rsplit(".", 1)[-1]
    return {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg",
            "jpeg": "image/jpeg"}.get(ext, "application/octet-stream")


def parse_store(spec: str) -> tuple[str, str, str]:
    """GRIDSNAP_PHOTO_STORE → ("file", path, "") or ("s3", bucket, prefix).

    "file:/srv/photos" (or "file:relative/path", or a bare path) is a local directory;
    "s3://BUCKET/PREFIX" a bucket (prefix optional). Raises ValueError on anything else.
    """
    spec = spec.strip()
    if spec.startswith("s3://"):
        parts = urlsplit(spec)
        bucket, prefix = parts.netloc, parts.path.strip("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or parts.query:
            raise ValueError(f"not a bucket name in {spec!r} (write s3://BUCKET/PREFIX)")
        if prefix:
            validate_key(prefix)
        return "s3", bucket, prefix
    path = spec.removeprefix("file://") if spec.startswith("file://") else spec.removeprefix(
        "file:")
    if not path or "://" in spec and not spec.startswith("file://"):
        raise ValueError(f"GRIDSNAP_PHOTO_STORE is file:PATH or s3://BUCKET/PREFIX, not {spec!r}")
    return "file", path, ""


def open_store(spec: str, options: Mapping[str, str] | None = None,
               fallback: str = "") -> PhotoStorage:
    """The store GRIDSNAP_PHOTO_STORE names (parse_store); `options` for an S3 store
    (S3PhotoStorage); `fallback` the store it is moving from (FallbackStorage)."""
    if fallback:
        return FallbackStorage(open_store(spec, options), open_store(fallback))
    kind, where, prefix = parse_store(spec)
    if kind == "s3":
        return S3PhotoStorage(where, prefix, options)
    return LocalPhotoStorage(where)


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
