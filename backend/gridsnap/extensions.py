"""Extensions created unbound here and attached by create_app(): the API, database, storage, queue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import transaction
from .db import make_engine, make_session_factory
from .edge import EdgeApi
from .settings import Settings
from .storage import LocalPhotoStorage, PartialUploads, PhotoStorage

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
    def storage(self) -> PhotoStorage:
        return LocalPhotoStorage(self.settings.media_dir)

    @cached_property
    def partials(self) -> PartialUploads:
        """Resumable photo uploads in progress (tus), next to the photos."""
        return PartialUploads(self.settings.media_dir / "uploads")

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


def runtime() -> Runtime:
    return current_app.extensions["gridsnap"]


def db_session() -> Session:
    """The request's session, its transaction owned by the API's edge (edge.unit_of_work:
    committed once after a successful view); closed (and rolled back if uncommitted) at
    teardown."""
    if "db" not in g:
        g.db = transaction.own(runtime().sessions(), "request (edge.unit_of_work)")
    return g.db


def settings() -> Settings:
    return runtime().settings
