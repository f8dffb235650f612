"""The indexes the evaluation reads through (the tables are the cases' own)."""

from __future__ import annotations

from sqlalchemy import Index

from ..events.models import CaseEvent
from ..reports.models import Report

# A case belongs to the period of its 立案 time, a report to that of its receipt: the
# indicator table starts from these two ranges.
ix_reports_accepted_at = Index("ix_reports_accepted_at", Report.__table__.c.accepted_at)
ix_reports_received_at = Index("ix_reports_received_at", Report.__table__.c.received_at)
# the trail of a period, read as one range
ix_case_events_at = Index("ix_case_events_at", CaseEvent.__table__.c.at)
