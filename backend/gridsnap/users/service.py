"""Use cases for users: log in (issue a token), authenticate a token, revoke, add and change users."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock, transaction
from ..errors import AppError
from . import queries
from .models import ROLES, User
from .rules import LOGIN_LIMITS, Principal, valid_scope

log = logging.getLogger(__name__)

# A constant hash to compare against when the user does not exist, so that timing does not
# tell which usernames exist.
_DUMMY_HASH = generate_password_hash("gridsnap-not-a-user")


def hash_token(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def _throttle_keys(username: str, address: str) -> dict[str, str]:
    account = hashlib.sha256(username.encode()).hexdigest()[:32]
    return {"account_ip": f"gridsnap:login:account_ip:{account}:{address}",
            "account": f"gridsnap:login:account:{account}",
            "ip": f"gridsnap:login:ip:{address}"}


def login_wait_seconds(redis: Redis, username: str, address: str) -> int:
    """How long this login must wait (0: it may try now), by rules.LOGIN_LIMITS. Without Redis
    it may try (logged): a Redis outage must not stop field workers logging in."""
    keys = _throttle_keys(username, address)
    try:
        pipe = redis.pipeline(transaction=False)
        for kind, _, _ in LOGIN_LIMITS:
            pipe.get(keys[kind])
            pipe.ttl(keys[kind])
        answers = pipe.execute()
    except RedisError:
        log.warning("login throttling skipped: Redis unreachable")
        return 0
    wait = 0
    for i, (_, limit, window) in enumerate(LOGIN_LIMITS):
        count, ttl = answers[2 * i], answers[2 * i + 1]
        if count is not None and int(count) >= limit:
            wait = max(wait, ttl if ttl and ttl > 0 else window)
    return wait


def _count_failure(redis: Redis, username: str, address: str) -> None:
    keys = _throttle_keys(username, address)
    try:
        pipe = redis.pipeline(transaction=False)
        for kind, _, window in LOGIN_LIMITS:
            pipe.set(keys[kind], 0, ex=window, nx=True)  # the window starts at the first failure
            pipe.incr(keys[kind])
        pipe.execute()
    except RedisError:
        log.warning("login failure not counted: Redis unreachable")


def _forget_failures(redis: Redis, username: str, address: str) -> None:
    with contextlib.suppress(RedisError):
        redis.delete(_throttle_keys(username, address)["account_ip"])


def issue_token(session: Session, username: str, password: str, *, ttl_days: int,
                label: str | None = None, redis: Redis | None = None,
                address: str = "") -> tuple[str, datetime, User]:
    """Log in: returns (raw token, expiry, user). With `redis`, failed logins are counted per
    account, per address and per both (rules.LOGIN_LIMITS) and a login past a limit is refused
    before its password is checked. Raises AppError auth.bad_credentials or
    auth.too_many_attempts (with Retry-After)."""
    if redis is not None:
        wait = login_wait_seconds(redis, username, address)
        if wait:
            raise AppError("auth.too_many_attempts",
                           f"Too many failed logins; try again in {wait} s.",
                           headers={"Retry-After": str(wait)})
    user = queries.find_user_by_username(session, username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password) and user.disabled_at is None
    if not ok:
        if redis is not None:
            _count_failure(redis, username, address)
        raise AppError("auth.bad_credentials", "Wrong username or password.")
    if redis is not None:
        _forget_failures(redis, username, address)
    raw = secrets.token_urlsafe(32)
    expires_at = clock.now() + timedelta(days=ttl_days)
    queries.insert_token(session, user_id=user.id, token_hash=hash_token(raw),
                         expires_at=expires_at, label=label)
    return raw, expires_at, user


# token hash -> (principal, monotonic expiry, revocation epoch): a short per-process cache, so
# that a busy intake does not ask PostgreSQL who the caller is on every request. An entry holds
# only while the revocation epoch in Redis is the one it was made under: every revocation
# (logout, revoke-tokens, a disabled user, changed scopes) sets a new epoch, so it takes effect
# on every API process with their next request. Without Redis the cache is not used.
_CACHE: dict[bytes, tuple[Principal, float, str]] = {}
_CACHE_MAX = 10_000
EPOCH_KEY = "gridsnap:auth:revocation_epoch"


def forget_cached_tokens() -> None:
    _CACHE.clear()


def revocation_epoch(redis: Redis) -> str | None:
    """The current revocation epoch (made if Redis has none, e.g. after it lost its data), or
    None if Redis cannot be reached (then no cached token is trusted)."""
    try:
        epoch = redis.get(EPOCH_KEY)
        if epoch is None:
            redis.set(EPOCH_KEY, secrets.token_hex(8), nx=True)
            epoch = redis.get(EPOCH_KEY)
    except RedisError:
        return None
    return None if epoch is None else epoch.decode() if isinstance(epoch, bytes) else str(epoch)


def announce_revocation(redis: Redis | None) -> None:
    """After a revocation commits: a new epoch, so that every process drops its cached tokens.
    Without Redis the caches still end within GRIDSNAP_TOKEN_CACHE_SECONDS (logged)."""
    forget_cached_tokens()
    if redis is None:
        return
    try:
        redis.set(EPOCH_KEY, secrets.token_hex(8))
    except RedisError:
        log.warning("revocation not announced: Redis unreachable; other processes' token "
                    "caches end within their TTL")


def authenticate(session: Session, raw_token: str, *, cache_seconds: float = 0,
                 epoch: str | None = None) -> Principal:
    """The principal behind a bearer token; raises AppError auth.invalid_token. A cached answer
    is used only under the same revocation `epoch` (None: never)."""
    token_hash = hash_token(raw_token)
    use_cache = cache_seconds > 0 and epoch is not None
    if use_cache:
        hit = _CACHE.get(token_hash)
        if hit is not None and hit[1] > time.monotonic() and hit[2] == epoch:
            return hit[0]
    row = queries.find_principal_row(session, token_hash)
    if row is None:
        _CACHE.pop(token_hash, None)
        raise AppError("auth.invalid_token",
                       "This login has expired or was revoked; log in again.")
    principal = Principal(id=row["id"], username=row["username"],
                          display_name=row["display_name"], role=row["role"],
                          scopes=tuple(row["scopes"] or ()),
                          department_code=row["department_code"], token_id=row["token_id"])
    if use_cache:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        # never past the token's own expiry
        ttl = min(cache_seconds, (row["expires_at"] - clock.now()).total_seconds())
        _CACHE[token_hash] = (principal, time.monotonic() + ttl, epoch)
    return principal


def issue_api_key(session: Session, user_id: int, *, years: int, label: str) -> str:
    """A long-lived bearer token for another system (an Open311 client's API key): the raw
    key, shown once; only its SHA-256 is stored. Does not commit."""
    raw = secrets.token_urlsafe(32)
    queries.insert_token(session, user_id=user_id, token_hash=hash_token(raw),
                         expires_at=clock.now() + timedelta(days=365 * years), label=label)
    return raw


def revoke_token(session: Session, token_id: int, redis: Redis | None = None) -> None:
    """Log out: the token is revoked on every API process at once (announce_revocation)."""
    queries.revoke_token(session, token_id)
    _announce_on_commit(session, redis)


def revoke_all_tokens(session: Session, username: str, redis: Redis | None = None) -> int:
    user = _get_user(session, username)
    n = queries.revoke_user_tokens(session, user.id)
    _announce_on_commit(session, redis)
    return n


def _announce_on_commit(session: Session, redis: Redis | None) -> None:
    # once the change is durable, every API process forgets its cached tokens
    transaction.on_commit(session, lambda: announce_revocation(redis))


def _get_user(session: Session, username: str) -> User:
    user = queries.find_user_by_username(session, username)
    if user is None:
        raise LookupError(f"no user named {username!r}")
    return user


def add_user(session: Session, *, username: str, display_name: str, role: str, password: str,
             scopes: list[str], department_code: str | None = None) -> User:
    """Create a user; raises ValueError with a readable reason for bad input."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    bad = [s for s in scopes if not valid_scope(s)]
    if bad:
        raise ValueError(f"scopes are area code prefixes (digits) or '' for the city: {bad}")
    if role == "handler" and not department_code:
        raise ValueError("a handler needs --department")
    if department_code and not queries.department_exists(session, department_code):
        raise ValueError(f"there is no department {department_code!r}")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    if queries.find_user_by_username(session, username) is not None:
        raise ValueError(f"a user named {username!r} exists already")
    user = User(username=username, display_name=display_name or username, role=role,
                password_hash=generate_password_hash(password), scopes=list(scopes),
                department_code=department_code)
    session.add(user)
    session.flush()
    return user


def set_scopes(session: Session, username: str, scopes: list[str],
               redis: Redis | None = None) -> User:
    bad = [s for s in scopes if not valid_scope(s)]
    if bad:
        raise ValueError(f"scopes are area code prefixes (digits) or '' for the city: {bad}")
    user = _get_user(session, username)
    user.scopes = list(scopes)
    _announce_on_commit(session, redis)
    return user


def require_known_areas(session: Session, scopes: list[str]) -> None:
    """Raises ValueError unless every scope is '' (the whole city) or the start of a stored
    area's code: a scope that names no place would give its holder nothing to see."""
    unknown = queries.unknown_prefixes(session, [s for s in scopes if valid_scope(s)])
    if unknown:
        raise ValueError(
            f"no area has a code starting with {', '.join(repr(u) for u in unknown)}: a scope is "
            "the code of a district, street, community or cell of the imported grid (e.g. "
            "110101), or '' for the whole city")


def working_passwords(session: Session, passwords: dict[str, str]) -> dict[str, bool]:
    """username -> whether that password still logs the user in (an enabled user whose stored
    hash matches it): the demo passwords are shown only while they work."""
    out = {}
    for username, password in passwords.items():
        user = queries.find_user_by_username(session, username)
        out[username] = (user is not None and user.disabled_at is None
                         and check_password_hash(user.password_hash, password))
    return out


def enable_user(session: Session, username: str) -> User:
    user = _get_user(session, username)
    user.disabled_at = None
    return user


def disable_user(session: Session, username: str, redis: Redis | None = None) -> User:
    user = _get_user(session, username)
    user.disabled_at = clock.now()
    queries.revoke_user_tokens(session, user.id)
    _announce_on_commit(session, redis)
    return user


def list_users(session: Session, actor: Principal | None = None) -> list[User]:
    """Every user, or with `actor` (an admin) the users it manages (Principal.manages)."""
    from sqlalchemy import select

    users = list(session.scalars(select(User).order_by(User.role, User.username)))
    return [u for u in users if actor is None or actor.manages(u.scopes)]


def require_may_grant(actor: Principal, scopes: list[str]) -> None:
    """Raises PermissionError unless `actor` may give a user these scopes (all within its
    own)."""
    if not actor.manages(scopes):
        raise PermissionError("You may give only scopes within your own "
                              f"({', '.join(repr(s) for s in actor.scopes) or 'none'}).")


def require_may_edit(session: Session, actor: Principal, username: str, *,
                     scopes: list[str] | None, disabling: bool) -> None:
    """May `actor` change this user (to `scopes`, or disable them)? Raises LookupError for a
    user outside its reach (as if there were none), PermissionError for a scope wider than
    its own, ValueError for disabling itself."""
    user = queries.find_user_by_username(session, username)
    if user is None or not actor.manages(user.scopes):
        raise LookupError(f"no user named {username!r}")
    if scopes is not None:
        require_may_grant(actor, scopes)
    if disabling and user.id == actor.id:
        raise ValueError("You may not disable yourself: ask another admin.")
