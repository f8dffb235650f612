"""Extensions created unbound here and attached by create_app(): the API, database, storage, queue."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_session_factory
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


def runtime() -> Runtime:
    return current_app.extensions["gridsnap"]


def db_session() -> Session:
    """The request's session; closed (and rolled back if uncommitted) at teardown."""
    if "db" not in g:
        g.db = runtime().sessions()
    return g.db


def settings() -> Settings:
    return runtime().settings
