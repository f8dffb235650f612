"""Use cases for users: log in (issue a token), authenticate a token, revoke, add and change users."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta

from cachetools import TLRUCache
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock, transaction
from ..errors import AppError
from . import permissions, queries
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
# on every API process with their next request. Without Redis the cache is not used. Each entry
# lives until its own expiry (cachetools' TLRUCache; never past the token's); when full, the
# least recently used goes.
_CACHE_MAX = 10_000
_CACHE: TLRUCache = TLRUCache(maxsize=_CACHE_MAX, ttu=lambda _key, entry, _now: entry[1],
                              timer=time.monotonic)
_CACHE_LOCK = threading.Lock()  # cachetools' caches are not thread-safe
EPOCH_KEY = "gridsnap:auth:revocation_epoch"


def forget_cached_tokens() -> None:
    with _CACHE_LOCK:
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
        with _CACHE_LOCK:
            hit = _CACHE.get(token_hash)
        if hit is not None and hit[2] == epoch:
            return hit[0]
    row = queries.find_principal_row(session, token_hash)
    if row is None:
        with _CACHE_LOCK:
            _CACHE.pop(token_hash, None)
        raise AppError("auth.invalid_token",
                       "This login has expired or was revoked; log in again.")
    principal = Principal(id=row["id"], username=row["username"],
                          display_name=row["display_name"], role=row["role"],
                          scopes=tuple(row["scopes"] or ()),
                          department_code=row["department_code"], token_id=row["token_id"])
    if use_cache:
        # never past the token's own expiry
        ttl = min(cache_seconds, (row["expires_at"] - clock.now()).total_seconds())
        with _CACHE_LOCK:
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
    """Revoke every token of a user (a lost phone); raises AppError user.not_found."""
    user = get_user(session, username)
    n = queries.revoke_user_tokens(session, user.id)
    _announce_on_commit(session, redis)
    return n


def _announce_on_commit(session: Session, redis: Redis | None) -> None:
    # once the change is durable, every API process forgets its cached tokens
    transaction.on_commit(session, lambda: announce_revocation(redis))


def _invalid(message: str, field: str | None = None) -> AppError:
    return AppError("user.invalid", message, {field: [message]} if field else {})


def _not_found(username: str) -> AppError:
    return AppError("user.not_found", f"There is no user {username!r}.")


def get_user(session: Session, username: str) -> User:
    """The user of that name; raises AppError user.not_found."""
    user = queries.find_user_by_username(session, username)
    if user is None:
        raise _not_found(username)
    return user


def add_user(session: Session, *, username: str, display_name: str, role: str, password: str,
             scopes: list[str], department_code: str | None = None,
             actor: Principal | None = None) -> User:
    """Create a user. With `actor` (an admin through the API), only with scopes within the
    actor's own. Raises AppError auth.forbidden (a scope wider than the actor's), user.invalid
    with a readable reason for bad input."""
    if actor is not None:
        require_may_grant(actor, scopes)
    if role not in ROLES:
        raise _invalid(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    _check_scopes(scopes)
    if role == "handler" and not department_code:
        raise _invalid("a handler needs --department")
    if department_code and not queries.department_exists(session, department_code):
        raise _invalid(f"there is no department {department_code!r}")
    if len(password) < 8:
        raise _invalid("the password must have at least 8 characters")
    if queries.find_user_by_username(session, username) is not None:
        raise _invalid(f"a user named {username!r} exists already")
    user = User(username=username, display_name=display_name or username, role=role,
                password_hash=generate_password_hash(password), scopes=list(scopes),
                department_code=department_code)
    session.add(user)
    session.flush()
    return user


def _check_scopes(scopes: list[str]) -> None:
    bad = [s for s in scopes if not valid_scope(s)]
    if bad:
        raise _invalid(f"scopes are area code prefixes (digits) or '' for the city: {bad}")


def set_scopes(session: Session, username: str, scopes: list[str],
               redis: Redis | None = None) -> User:
    """Replace a user's scopes (their tokens are revoked on commit: what they see changed).
    Raises AppError user.invalid, user.not_found."""
    _check_scopes(scopes)
    user = get_user(session, username)
    user.scopes = list(scopes)
    _announce_on_commit(session, redis)
    return user


def require_known_areas(session: Session, scopes: list[str]) -> None:
    """Raises AppError user.invalid unless every scope is '' (the whole city) or the start of
    a stored area's code: a scope that names no place would give its holder nothing to see."""
    unknown = queries.unknown_prefixes(session, [s for s in scopes if valid_scope(s)])
    if unknown:
        raise _invalid(
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
    """Raises AppError user.not_found."""
    user = get_user(session, username)
    user.disabled_at = None
    return user


def disable_user(session: Session, username: str, redis: Redis | None = None) -> User:
    """Disable a user and revoke their tokens (on every process once committed). Raises
    AppError user.not_found."""
    user = get_user(session, username)
    user.disabled_at = clock.now()
    queries.revoke_user_tokens(session, user.id)
    _announce_on_commit(session, redis)
    return user


def list_users(session: Session, actor: Principal | None = None) -> list[User]:
    """Every user, or with `actor` (an admin) the users it manages (permissions.manages)."""
    return [u for u in queries.list_users(session) if actor is None or _manages(actor, u.scopes)]


def _manages(actor: Principal, scopes) -> bool:
    return permissions.may(actor, permissions.MANAGE_USERS, permissions.Scoped(tuple(scopes or ())))


def require_may_grant(actor: Principal, scopes: list[str]) -> None:
    """Raises AppError auth.forbidden unless `actor` may give a user these scopes (all within
    its own)."""
    if not _manages(actor, scopes):
        message = ("You may give only scopes within your own "
                   f"({', '.join(repr(s) for s in actor.scopes) or 'none'}).")
        raise AppError("auth.forbidden", message, {"scopes": [message]})


def require_may_edit(session: Session, actor: Principal, username: str, *,
                     scopes: list[str] | None, disabling: bool) -> None:
    """May `actor` change this user (to `scopes`, or disable them)? Raises AppError
    user.not_found for a user outside its reach (as if there were none), auth.forbidden for a
    scope wider than its own, user.invalid for disabling itself."""
    user = queries.find_user_by_username(session, username)
    if user is None or not _manages(actor, user.scopes):
        raise _not_found(username)
    if scopes is not None:
        require_may_grant(actor, scopes)
    if disabling and user.id == actor.id:
        raise _invalid("You may not disable yourself: ask another admin.", "disabled")


def update_user(session: Session, actor: Principal, username: str, *,
                scopes: list[str] | None = None, disabled: bool | None = None,
                redis: Redis | None = None) -> User:
    """An admin's change of a user it manages (PATCH): new scopes if given (within its own),
    then disabled (their tokens revoked) or enabled again if said; returns the user. Raises
    AppError user.not_found (also outside the admin's reach), auth.forbidden, user.invalid."""
    require_may_edit(session, actor, username, scopes=scopes, disabling=disabled is True)
    user = None
    if scopes is not None:
        user = set_scopes(session, username, scopes, redis)
    if disabled is True:
        user = disable_user(session, username, redis)
    elif disabled is False:
        user = enable_user(session, username)
    return user if user is not None else get_user(session, username)
