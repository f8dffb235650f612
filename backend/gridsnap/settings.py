"""Configuration read once from the environment, with defaults for the project-local services."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"gridsnap: {name} must be a whole number, not {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise SystemExit(f"gridsnap: {name} must be a number of seconds (0 or more), not {raw!r}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"gridsnap: {name} must be on or off (1/0, true/false), not {raw!r}")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in choices:
        raise SystemExit(f"gridsnap: {name} is one of {', '.join(choices)}, not {raw!r}")
    return raw


# repeat callers: the number is compared as HMAC-SHA256 under a server key, never in clear.
# Unset, this development key is used: it is public, so a production deployment sets its own
DEV_CALLER_HASH_KEY = ("dev", b"gridsnap-development-caller-hash-key")
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def caller_hash_keys(raw: str | None) -> tuple[tuple[str, bytes], ...]:
    """GRIDSNAP_CALLER_HASH_KEYS: "2027a:SECRET,2026a:OLDSECRET" — key id and secret (at least
    16 characters), the current key first; older keys still match numbers hashed under them
    until `gridsnap callers rehash` has hashed them again. Unset: the development key."""
    if not raw or not raw.strip():
        return (DEV_CALLER_HASH_KEY,)
    keys: list[tuple[str, bytes]] = []
    for part in raw.split(","):
        kid, sep, secret = part.strip().partition(":")
        if not sep or not _KEY_ID.match(kid) or len(secret) < 16:
            raise SystemExit("gridsnap: GRIDSNAP_CALLER_HASH_KEYS is a list of ID:SECRET (ID of "
                             "letters, digits, - and _, at most 16; SECRET at least 16 "
                             f"characters), the current key first; not {part.strip()[:20]!r}…")
        if any(k == kid for k, _ in keys):
            raise SystemExit(f"gridsnap: GRIDSNAP_CALLER_HASH_KEYS names key {kid!r} twice")
        keys.append((kid, secret.encode("utf-8")))
    return tuple(keys)


def _on_time_stages(raw: str | None) -> tuple[str, ...]:
    """GRIDSNAP_ON_TIME_STAGES: "accept,handle,verify" (default) — the stages whose deadlines a
    case must have met to count as 按期结案."""
    if not raw or not raw.strip():
        return ("accept", "handle", "verify")
    stages = tuple(s.strip() for s in raw.split(",") if s.strip())
    bad = [s for s in stages if s not in ("accept", "handle", "verify")]
    if bad or not stages:
        raise SystemExit("gridsnap: GRIDSNAP_ON_TIME_STAGES lists stages among accept, handle, "
                         f"verify, not {raw!r}")
    return stages


def _weights(raw: str | None, name: str = "GRIDSNAP_INDICATOR_WEIGHTS",
             example: str = "on_time_closure_rate=0.4,closure_rate=0.3") -> tuple[
                 tuple[str, float], ...]:
    """GRIDSNAP_INDICATOR_WEIGHTS (or GRIDSNAP_RANKING_WEIGHTS): "on_time_closure_rate=0.4,
    closure_rate=0.3" → pairs; empty: the documented default weights (stats.rules)."""
    if not raw or not raw.strip():
        return ()
    out = []
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not key.strip() or weight < 0:
            raise SystemExit(f"gridsnap: {name} is rate=weight pairs, e.g. "
                             f"{example}, not {raw!r}")
        out.append((key.strip(), weight))
    return tuple(out)


def _delivery(raw: str | None) -> str:
    raw = (raw or "front").strip().lower()
    if raw not in ("front", "redirect"):
        raise SystemExit(f"gridsnap: GRIDSNAP_PHOTO_DELIVERY is front or redirect, not {raw!r}")
    return raw


def var_dir() -> Path:
    """The folder for local state (database cluster, Redis, media, logs): `.var/` by default."""
    return Path(os.environ.get("GRIDSNAP_VAR_DIR", REPO_ROOT / ".var")).resolve()


DEFAULT_PORTS = {"pg": 54329, "redis": 63799, "s3": 58333}


def _recorded_port(service: str) -> int | None:
    """The port this checkout's local service was set up on (.var/ports.json), if any.

    A second checkout on the same machine finds the default ports taken and records others,
    so every `gridsnap` command of a checkout reaches that checkout's own services.
    """
    try:
        return int(json.loads((var_dir() / "ports.json").read_text())[service])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_port(service: str, port: int) -> None:
    path = var_dir() / "ports.json"
    try:
        ports = json.loads(path.read_text())
    except (OSError, ValueError):
        ports = {}
    ports[service] = port
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ports))


def local_pg_port() -> int:
    return _int("GRIDSNAP_PG_PORT", _recorded_port("pg") or DEFAULT_PORTS["pg"])


def local_redis_port() -> int:
    return _int("GRIDSNAP_REDIS_PORT", _recorded_port("redis") or DEFAULT_PORTS["redis"])


def local_s3_port() -> int:
    return _int("GRIDSNAP_S3_PORT", _recorded_port("s3") or DEFAULT_PORTS["s3"])


# the keys of the project-local S3 server (devservices.LocalSeaweed), used when
# GRIDSNAP_PHOTO_STORE names a bucket and AWS_ENDPOINT_URL names no server: local only
LOCAL_S3_ACCESS_KEY = "gridsnap-local"
LOCAL_S3_SECRET_KEY = "gridsnap-local-secret"


def local_s3_options() -> dict[str, str]:
    """How to reach the project-local S3 server (devservices.LocalSeaweed)."""
    return {"endpoint_url": f"http://127.0.0.1:{local_s3_port()}",
            "access_key_id": LOCAL_S3_ACCESS_KEY, "secret_access_key": LOCAL_S3_SECRET_KEY}


def _photo_store(raw: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """GRIDSNAP_PHOTO_STORE → (the store, its connection options): "" is the local folder
    GRIDSNAP_MEDIA_DIR; a bucket without AWS_ENDPOINT_URL is on the project-local S3 server."""
    from .storage import parse_store

    raw = (raw or "").strip()
    if not raw:
        return "", ()
    try:
        kind, _, _ = parse_store(raw)
    except ValueError as exc:
        raise SystemExit(f"gridsnap: GRIDSNAP_PHOTO_STORE: {exc}") from exc
    if kind == "s3" and not os.environ.get("AWS_ENDPOINT_URL"):
        if os.environ.get("AWS_ACCESS_KEY_ID"):
            return raw, ()  # AWS itself
        return raw, tuple(local_s3_options().items())
    return raw, ()


def _fallback(raw: str | None) -> str:
    from .storage import parse_store

    raw = (raw or "").strip()
    if raw:
        try:
            if parse_store(raw)[0] != "file":
                raise ValueError("the store moved from is a local folder (file:PATH)")
        except ValueError as exc:
            raise SystemExit(f"gridsnap: GRIDSNAP_PHOTO_STORE_FALLBACK: {exc}") from exc
    return raw


def store_options(spec: str) -> tuple[tuple[str, str], ...]:
    """The connection options of the store `spec` (GRIDSNAP_PHOTO_STORE's rules)."""
    return _photo_store(spec)[1]


def default_database_url(dbname: str = "gridsnap") -> str:
    return f"postgresql+psycopg://gridsnap@127.0.0.1:{local_pg_port()}/{dbname}"


def default_redis_url(db: int = 0) -> str:
    return f"redis://127.0.0.1:{local_redis_port()}/{db}"


def _normalise_db_url(url: str) -> str:
    # Accept the libpq form operators copy from elsewhere; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# 接诉即办 time limits by urgency: h hours, wh working hours, wd working days
# 接诉即办: the 条例 and the city's rules count 日 (calendar days: "7天 / 15天"); write 7wd
# for working days
DEFAULT_HOTLINE_LIMITS = "emergency=2h,urgent=24h,ordinary=7d,complex=15d"
_LIMIT_UNITS = {"h": "hours", "wh": "working_hours", "wd": "working_days", "d": "days"}


def _read_limit(text: str) -> tuple[str, str | None]:
    """"2wh" → ("2", "working_hours"): the leading digits and the unit they are in (None:
    no unit of _LIMIT_UNITS follows them)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits, _LIMIT_UNITS.get(text[len(digits):].strip())


def parse_hotline_limits(raw: str) -> tuple[tuple[str, int, str], ...]:
    """"emergency=2h,urgent=24h,…" → ((urgency, amount, unit), …); SystemExit if unreadable."""
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, limit = part.partition("=")
        digits, unit = _read_limit(limit)
        if not name or not digits or unit is None:
            raise SystemExit(f"gridsnap: GRIDSNAP_HOTLINE_TIME_LIMITS: cannot read {part!r} "
                             "(write e.g. emergency=2h,urgent=24h,ordinary=7d,complex=15d: "
                             "h hours, wh working hours, d calendar days, wd working days)")
        out.append((name.strip(), int(digits), unit))
    return tuple(out)


def parse_limit(name: str, raw: str) -> tuple[int, str]:
    """"2wh" → (2, "working_hours"): one time limit in the units above; SystemExit if
    unreadable."""
    raw = raw.strip()
    digits, unit = _read_limit(raw)
    if not digits or unit is None or not raw.startswith(digits) or not 1 <= int(digits) <= 10000:
        raise SystemExit(f"gridsnap: {name}: cannot read {raw!r} (write e.g. 2wh, 24h or 2wd)")
    return int(digits), unit


DEFAULT_REPORT_IN_LIMIT = "2wh"  # 报到: a summoned department reports in within this
DEFAULT_NOTICE_REPLY_LIMIT = "2wd"
# 先行联系: the unit a hotline case is dispatched to contacts the caller within this
DEFAULT_HOTLINE_CONTACT_LIMIT = "24h"  # 督办: a department replies to a notice within this


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    media_dir: Path
    # a streaming replica of database_url for the heavy reads (indicators, 每月一题, tiles,
    # exports); "" for none. Used only while it is at most replica_max_lag_seconds behind
    replica_url: str = ""
    replica_max_lag_seconds: float = 10.0
    token_ttl_days: int = 30
    photo_max_bytes: int = 15 * 1024 * 1024
    photo_max_pixels: int = 50_000_000
    # the memory a follow-up job may use to decode one large image (in a capped child process)
    photo_decode_max_bytes: int = 1024 * 1024 * 1024
    description_max_chars: int = 2000
    timezone: str = "Asia/Shanghai"
    business_hours: tuple[str, str] = ("09:00", "18:00")
    # a JSON file of State Council holiday notices for years the holidays library lacks
    # (deadlines.rules.parse_holidays); "" for none
    holidays_file: str = ""
    queue_name: str = "gridsnap"
    outbox_batch_size: int = 100
    job_retry_intervals: tuple[int, ...] = (5, 30, 120, 600)
    photo_exif_warn_distance_m: int = 100
    photo_exif_warn_age_hours: int = 24
    verify_distance_m: int = 50
    token_cache_seconds: int = 10
    duplicate_window_days: int = 7
    hotline_time_limits: tuple[tuple[str, int, str], ...] = parse_hotline_limits(
        DEFAULT_HOTLINE_LIMITS)
    report_in_limit: tuple[int, str] = parse_limit("GRIDSNAP_REPORT_IN_LIMIT",
                                                   DEFAULT_REPORT_IN_LIMIT)
    notice_reply_limit: tuple[int, str] = parse_limit("GRIDSNAP_NOTICE_REPLY_LIMIT",
                                                      DEFAULT_NOTICE_REPLY_LIMIT)
    hotline_contact_limit: tuple[int, str] = parse_limit("GRIDSNAP_HOTLINE_CONTACT_LIMIT",
                                                         DEFAULT_HOTLINE_CONTACT_LIMIT)
    open311_jurisdiction_id: str = "gridsnap.local"
    open311_contact: str = ""
    captured_max_age_days: int = 60
    captured_max_ahead_seconds: int = 600
    trusted_proxies: int = 0
    upload_expiry_hours: int = 24
    # what one user may hold open in resumable uploads (a phone needs a few), and the longest an
    # upload may live from its creation however often it is advanced
    upload_max_open: int = 20
    upload_max_reserved_bytes: int = 100 * 1024 * 1024
    upload_max_age_hours: int = 72
    # photos (and open uploads) a report may have
    photo_max_per_report: int = 30
    # /health reports the photo store "degraded" when it has room for fewer photos at the limit
    # than this (low space is an alert, not an outage: reports are still taken)
    storage_low_photos: int = 100
    # the deployment's public address (https://grid.example.gov.cn): the absolute URLs the API
    # gives out (Open311 discovery, media_url) start with it, never with a request's Host
    public_url: str = ""
    # where photos live: "" the local folder media_dir; "file:PATH" or "s3://BUCKET/PREFIX"
    # (storage.open_store), with the connection options of an S3 store not from the environment
    photo_store: str = ""
    photo_store_options: tuple[tuple[str, str], ...] = ()
    # while photos move into a bucket: the old store, read for what is not copied yet
    photo_store_fallback: str = ""
    # the bytes of resumable uploads in progress: a folder every API node shares (None: media_dir
    # /uploads, enough for one machine)
    upload_dir: Path | None = None
    # a photo in an object store reaches the client through a presigned GET that lasts this long:
    # "front" (nginx fetches it: X-Accel-Redirect) or "redirect" (the client does: 302)
    photo_url_seconds: int = 300
    photo_delivery: str = "front"
    # the base map (none by default: nothing is fetched from the internet unless configured)
    basemap: str = ""
    basemap_url: str = ""
    basemap_labels_url: str = ""
    basemap_labels_url_en: str = ""
    basemap_attribution: str = ""
    basemap_max_zoom: int = 18
    tianditu_key: str = ""
    # 退单审核: a department's return waits for a supervisor (off: it takes effect at once)
    return_review: bool = True
    # the evaluation (docs/indicators.md): a case suspended (挂账) at the cutoff leaves 应结案;
    # the stages whose deadlines 按期 requires met; the weights of the 综合指标值
    suspended_leave_due: bool = True
    on_time_stages: tuple[str, ...] = ("accept", "handle", "verify")
    indicator_weights: tuple[tuple[str, float], ...] = ()
    # what a weighted rate without a value counts as in the 综合指标值: exclude, zero, full
    indicator_missing: str = "exclude"
    # the monthly 考评 ranking's score: weights of the three rates (三率); empty: the defaults
    # (stats.rules.RANKING_WEIGHTS: 响应率 0.1, 解决率 0.45, 满意率 0.45)
    ranking_weights: tuple[tuple[str, float], ...] = ()
    # 挂账: the review date is at most this many days ahead
    suspension_max_days: int = 365
    # 矛盾纠纷: hours to accept (受理) an ordinary and a 可能激化 dispute (past the latter it is
    # escalated), days to settle one once accepted, days to the follow-up visit (回访)
    dispute_accept_hours: int = 24
    dispute_escalate_hours: int = 2
    dispute_mediation_days: int = 30
    dispute_follow_up_days: int = 15
    # 按时巡: how long a patrol's track points are kept (its coverage figures stay)
    track_retention_days: int = 90
    # repeat callers (重复来电): the keys of the number's keyed hash (the current first) and
    # how far back a number's calls are counted
    caller_hash_keys: tuple[tuple[str, bytes], ...] = field(
        default=(DEV_CALLER_HASH_KEY,), repr=False)
    repeat_caller_days: int = 30
    # repeat requests (重复诉求): how near (metres; 0: the same place or address point only)
    # and how long after the earlier request closed a request of its class is a repeat
    repeat_request_radius_m: int = 100
    repeat_request_days: int = 30
    extra: dict = field(default_factory=dict)

    @property
    def max_body_bytes(self) -> int:
        """The largest request body: a photo plus room for a form's headers (the app's
        MAX_CONTENT_LENGTH and nginx's client_max_body_size are both this)."""
        return self.photo_max_bytes + 64 * 1024

    @property
    def uploads_dir(self) -> Path:
        """The folder of resumable uploads in progress (tus partial files)."""
        return self.upload_dir or self.media_dir / "uploads"

    @property
    def storage_low_bytes(self) -> int:
        """Free space below which the photo store is reported low: room for
        storage_low_photos photos at the limit."""
        return self.storage_low_photos * self.photo_max_bytes

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        start, _, end = os.environ.get("GRIDSNAP_BUSINESS_HOURS", "09:00-18:00").partition("-")
        store, store_options = _photo_store(os.environ.get("GRIDSNAP_PHOTO_STORE"))
        values = dict(
            database_url=_normalise_db_url(os.environ.get("DATABASE_URL") or default_database_url()),
            redis_url=os.environ.get("REDIS_URL") or default_redis_url(),
            replica_url=_normalise_db_url(os.environ.get("DATABASE_REPLICA_URL") or ""),
            replica_max_lag_seconds=_float("GRIDSNAP_REPLICA_MAX_LAG_SECONDS", 10.0),
            media_dir=Path(os.environ.get("GRIDSNAP_MEDIA_DIR", var_dir() / "media")),
            token_ttl_days=_int("GRIDSNAP_TOKEN_TTL_DAYS", 30),
            photo_max_bytes=_int("GRIDSNAP_PHOTO_MAX_BYTES", 15 * 1024 * 1024),
            photo_max_pixels=_int("GRIDSNAP_PHOTO_MAX_PIXELS", 50_000_000),
            photo_decode_max_bytes=_int("GRIDSNAP_PHOTO_DECODE_MAX_BYTES", 1024 * 1024 * 1024),
            timezone=os.environ.get("GRIDSNAP_TIMEZONE", "Asia/Shanghai"),
            business_hours=(start.strip() or "09:00", end.strip() or "18:00"),
            holidays_file=os.environ.get("GRIDSNAP_HOLIDAYS_FILE", "").strip(),
            queue_name=os.environ.get("GRIDSNAP_QUEUE", "gridsnap"),
            outbox_batch_size=_int("GRIDSNAP_OUTBOX_BATCH", 100),
            verify_distance_m=_int("GRIDSNAP_VERIFY_DISTANCE_M", 50),
            # a photo older or farther than this is flagged to the worker and the supervisor
            photo_exif_warn_distance_m=_int("GRIDSNAP_PHOTO_WARN_DISTANCE_M", 100),
            photo_exif_warn_age_hours=_int("GRIDSNAP_PHOTO_WARN_AGE_HOURS", 24),
            token_cache_seconds=_int("GRIDSNAP_TOKEN_CACHE_SECONDS", 10),
            duplicate_window_days=_int("GRIDSNAP_DUPLICATE_WINDOW_DAYS", 7),
            hotline_time_limits=parse_hotline_limits(
                os.environ.get("GRIDSNAP_HOTLINE_TIME_LIMITS") or DEFAULT_HOTLINE_LIMITS),
            report_in_limit=parse_limit(
                "GRIDSNAP_REPORT_IN_LIMIT",
                os.environ.get("GRIDSNAP_REPORT_IN_LIMIT") or DEFAULT_REPORT_IN_LIMIT),
            notice_reply_limit=parse_limit(
                "GRIDSNAP_NOTICE_REPLY_LIMIT",
                os.environ.get("GRIDSNAP_NOTICE_REPLY_LIMIT") or DEFAULT_NOTICE_REPLY_LIMIT),
            hotline_contact_limit=parse_limit(
                "GRIDSNAP_HOTLINE_CONTACT_LIMIT",
                os.environ.get("GRIDSNAP_HOTLINE_CONTACT_LIMIT") or DEFAULT_HOTLINE_CONTACT_LIMIT),
            open311_jurisdiction_id=os.environ.get("GRIDSNAP_OPEN311_JURISDICTION",
                                                   "gridsnap.local"),
            open311_contact=os.environ.get("GRIDSNAP_OPEN311_CONTACT", ""),
            captured_max_age_days=_int("GRIDSNAP_CAPTURED_MAX_AGE_DAYS", 60),
            captured_max_ahead_seconds=_int("GRIDSNAP_CAPTURED_MAX_AHEAD_SECONDS", 600),
            trusted_proxies=_int("GRIDSNAP_TRUSTED_PROXIES", 0),
            # a resumable photo upload left this long since its last bytes is swept
            upload_expiry_hours=_int("GRIDSNAP_UPLOAD_EXPIRY_HOURS", 24),
            upload_max_open=_int("GRIDSNAP_UPLOAD_MAX_OPEN", 20),
            upload_max_reserved_bytes=_int("GRIDSNAP_UPLOAD_MAX_RESERVED_BYTES",
                                           100 * 1024 * 1024),
            upload_max_age_hours=_int("GRIDSNAP_UPLOAD_MAX_AGE_HOURS", 72),
            photo_max_per_report=_int("GRIDSNAP_PHOTO_MAX_PER_REPORT", 30),
            storage_low_photos=_int("GRIDSNAP_STORAGE_LOW_PHOTOS", 100),
            public_url=os.environ.get("GRIDSNAP_PUBLIC_URL", "").strip().rstrip("/"),
            photo_store=store,
            photo_store_options=store_options,
            photo_store_fallback=_fallback(os.environ.get("GRIDSNAP_PHOTO_STORE_FALLBACK")),
            upload_dir=Path(os.environ["GRIDSNAP_UPLOAD_DIR"]) if os.environ.get(
                "GRIDSNAP_UPLOAD_DIR") else None,
            photo_url_seconds=_int("GRIDSNAP_PHOTO_URL_SECONDS", 300),
            photo_delivery=_delivery(os.environ.get("GRIDSNAP_PHOTO_DELIVERY")),
            basemap=os.environ.get("GRIDSNAP_BASEMAP", "").strip().lower(),
            basemap_url=os.environ.get("GRIDSNAP_BASEMAP_URL", "").strip(),
            basemap_labels_url=os.environ.get("GRIDSNAP_BASEMAP_LABELS_URL", "").strip(),
            basemap_labels_url_en=os.environ.get("GRIDSNAP_BASEMAP_LABELS_URL_EN", "").strip(),
            basemap_attribution=os.environ.get("GRIDSNAP_BASEMAP_ATTRIBUTION", "").strip(),
            basemap_max_zoom=_int("GRIDSNAP_BASEMAP_MAX_ZOOM", 18),
            tianditu_key=os.environ.get("GRIDSNAP_TIANDITU_KEY", "").strip(),
            return_review=_bool("GRIDSNAP_RETURN_REVIEW", True),
            suspended_leave_due=_bool("GRIDSNAP_SUSPENDED_LEAVE_DUE", True),
            suspension_max_days=_int("GRIDSNAP_SUSPENSION_MAX_DAYS", 365),
            dispute_accept_hours=_int("GRIDSNAP_DISPUTE_ACCEPT_HOURS", 24),
            dispute_escalate_hours=_int("GRIDSNAP_DISPUTE_ESCALATE_HOURS", 2),
            dispute_mediation_days=_int("GRIDSNAP_DISPUTE_MEDIATION_DAYS", 30),
            dispute_follow_up_days=_int("GRIDSNAP_DISPUTE_FOLLOW_UP_DAYS", 15),
            track_retention_days=_int("GRIDSNAP_TRACK_RETENTION_DAYS", 90),
            caller_hash_keys=caller_hash_keys(os.environ.get("GRIDSNAP_CALLER_HASH_KEYS")),
            repeat_caller_days=_int("GRIDSNAP_REPEAT_CALLER_DAYS", 30),
            repeat_request_radius_m=_int("GRIDSNAP_REPEAT_REQUEST_RADIUS_M", 100),
            repeat_request_days=_int("GRIDSNAP_REPEAT_REQUEST_DAYS", 30),
            on_time_stages=_on_time_stages(os.environ.get("GRIDSNAP_ON_TIME_STAGES")),
            indicator_weights=_weights(os.environ.get("GRIDSNAP_INDICATOR_WEIGHTS")),
            ranking_weights=_weights(os.environ.get("GRIDSNAP_RANKING_WEIGHTS"),
                                     "GRIDSNAP_RANKING_WEIGHTS",
                                     "response_rate=0.2,resolution_rate=0.4,satisfaction_rate=0.4"),
            indicator_missing=_choice("GRIDSNAP_INDICATOR_MISSING", "exclude",
                                      ("exclude", "zero", "full")),
        )
        values.update(overrides)
        if "database_url" in overrides:
            values["database_url"] = _normalise_db_url(values["database_url"])
        if "replica_url" in overrides:
            values["replica_url"] = _normalise_db_url(values["replica_url"])
        return cls(**values)
