"""Extensions created unbound here and attached by create_app(): the API, database, storage, queue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import transaction
from .db import ReadRoute, ReplicaLag, is_unavailable, make_engine, make_session_factory
from .edge import EdgeApi
from .settings import Settings
from .storage import LocalPhotoStorage, PartialUploads, PhotoStorage, open_store

api = EdgeApi()


@dataclass
class Runtime:
    """What a process (web or worker) needs to reach the outside world; built lazily."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker:
        return make_session_factory(self.engine)

    @cached_property
    def replica_engine(self) -> Engine | None:
        """The streaming replica (DATABASE_REPLICA_URL), or None."""
        if not self.settings.replica_url:
            return None
        return make_engine(self.settings.replica_url)

    @cached_property
    def replica_sessions(self) -> sessionmaker | None:
        engine = self.replica_engine
        return make_session_factory(engine) if engine is not None else None

    @cached_property
    def replica_lag(self) -> ReplicaLag | None:
        engine = self.replica_engine
        if engine is None:
            return None
        return ReplicaLag(self.engine, engine, self.settings.replica_max_lag_seconds)

    def read_route(self) -> ReadRoute:
        """Where a heavy read goes now (db.ReplicaLag): the primary without a replica, or when
        the replica is away or too far behind."""
        lag = self.replica_lag
        if lag is None:
            return ReadRoute("primary", 0.0, "no replica")
        try:
            return lag.route()
        except Exception as exc:
            if is_unavailable(exc):  # the primary itself is away: the read meets it there
                return ReadRoute("primary", 0.0, "primary unavailable")
            raise

    @cached_property
    def storage(self) -> PhotoStorage:
        """GRIDSNAP_PHOTO_STORE's store; by default the local folder GRIDSNAP_MEDIA_DIR."""
        if self.settings.photo_store:
            return open_store(self.settings.photo_store, dict(self.settings.photo_store_options),
                              fallback=self.settings.photo_store_fallback)
        return LocalPhotoStorage(self.settings.media_dir)

    @cached_property
    def partials(self) -> PartialUploads:
        """Resumable photo uploads in progress (tus): GRIDSNAP_UPLOAD_DIR, which every API node
        shares, or the folder next to the local photos."""
        return PartialUploads(self.settings.uploads_dir)

    @cached_property
    def redis(self):
        from redis import Redis

        return Redis.from_url(self.settings.redis_url, socket_timeout=5, socket_connect_timeout=2)

    def queue(self):
        from rq import Queue

        return Queue(self.settings.queue_name, connection=self.redis)

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
        if self.__dict__.get("replica_engine") is not None:
            self.replica_engine.dispose()


def runtime() -> Runtime:
    return current_app.extensions["gridsnap"]


def db_session() -> Session:
    """The request's session, its transaction owned by the API's edge (edge.unit_of_work:
    committed once after a successful view); closed (and rolled back if uncommitted) at
    teardown."""
    if "db" not in g:
        g.db = transaction.own(runtime().sessions(), "request (edge.unit_of_work)")
    return g.db


def read_session() -> Session:
    """The request's session for a heavy read that may be a few seconds stale (indicators,
    每月一题, map tiles, exports): on the replica while it is at most
    GRIDSNAP_REPLICA_MAX_LAG_SECONDS behind, else the primary's request session. Never for a
    case page or list, nor anything read after an action of the same request: those read their
    own writes on the primary. The answer's X-Gridsnap-Read-From and X-Gridsnap-Read-Lag say
    which it was (app.create_app)."""
    if "read_db" in g:
        return g.read_db
    rt = runtime()
    route = rt.read_route()
    g.read_route = route
    if route.source == "replica":
        g.read_db = rt.replica_sessions()
        return g.read_db
    return db_session()


def read_sessions() -> sessionmaker:
    """Sessions on where read_session() reads (for a body streamed after the view returns)."""
    read_session()
    rt = runtime()
    return rt.replica_sessions if g.read_route.source == "replica" else rt.sessions


def settings() -> Settings:
    return runtime().settings
