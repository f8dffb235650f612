"""Every feature's models, so that Base.metadata knows every table and foreign keys between
features resolve (sessions, Alembic, the drift test import this module)."""

from __future__ import annotations

from .campaigns import models as campaigns
from .cases import models as cases
from .catalogue import models as catalogue
from .categories import models as categories
from .disputes import models as disputes
from .events import models as events
from .grid import models as grid
from .hotline import models as hotline
from .notifications import models as notifications
from .open311 import models as open311
from .outbox import models as outbox
from .patrols import models as patrols
from .photos import models as photos
from .reports import models as reports
from .routing import models as routing
from .stats import models as stats
from .users import models as users

FEATURES = (campaigns, catalogue, cases, categories, disputes, events, grid, hotline, notifications, open311,
            outbox, patrols, photos, reports, routing, stats, users)
