"""Use cases of campaigns (专项) and 每月一题 programmes: start one and link its cases, read it
with whether the class of problem recurs after it (its before/after figures), its lead
department and measures, list them; 主动治理: the month's hot spots and what takes them on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from .. import clock
from ..cases.rules import SYSTEM, pick_level
from ..errors import AppError
from ..notifications import rules as nk
from ..notifications.queries import add_notices
from ..notifications.rules import Notice
from ..settings import Settings
from ..stats import service as stats_service
from ..stats.rules import midnight
from ..users import permissions
from ..users import queries as user_queries
from ..users.rules import Principal
from . import queries, rules


def start_campaign(session: Session, principal: Principal, settings: Settings,
                   body: dict) -> dict:
    """专项: record the campaign and link the cases of its class the caller may see (received
    in its days, or earlier and still open). One transaction. Returns the campaign as
    get_campaign shows it.

    Raises AppError auth.forbidden (not a supervisor or admin), campaign.outside_scope (the
    area is not within the caller's scope), request.invalid (unknown category, ends before it
    starts).
    """
    prefix = body["area_prefix"]
    permissions.require(principal, permissions.RUN_CAMPAIGNS)
    if not _may(principal, permissions.RUN_CAMPAIGNS, prefix):
        raise AppError("campaign.outside_scope",
                       f"Area {prefix or '(the city)'} is not within your scope.",
                       {"area_prefix": ["Outside your scope."]})
    _check_span(body["starts_on"], body["ends_on"])
    if not queries.category_exists(session, body["category"]):
        raise AppError("request.invalid", f"There is no category {body['category']!r}.",
                       {"category": ["Unknown category code."]})
    lead = body.get("lead_department")
    _check_department(session, lead)
    campaign_id = queries.insert_campaign(
        session, name=body["name"].strip(), category_code=body["category"], area_prefix=prefix,
        starts_on=body["starts_on"], ends_on=body["ends_on"], note=body.get("note"),
        created_by_id=principal.id, kind=body.get("kind", "campaign"),
        lead_department_code=lead, measures=rules.measures_of(body.get("measures") or []))
    _link(session, principal, settings, campaign_id, body["starts_on"], body["ends_on"])
    # the answer is made before the commit (the edge's): a campaign that cannot be shown is
    # not saved
    return get_campaign(session, principal, settings, campaign_id)


def _may(principal: Principal, verb: permissions.Verb, area_prefix: str) -> bool:
    """RUN_CAMPAIGNS: the caller's scope covers the area; READ_CAMPAIGNS: it overlaps it (the
    campaign's cases stay scoped)."""
    return permissions.may(principal, verb, permissions.InArea(area_prefix))


def _check_department(session: Session, code: str | None) -> None:
    if code is not None and not user_queries.department_exists(session, code):
        raise AppError("request.invalid", f"There is no department {code!r}.",
                       {"lead_department": ["Unknown department code."]})


def set_programme(session: Session, principal: Principal, settings: Settings, campaign_id: int,
                  body: dict) -> dict:
    """每月一题 as a programme: its lead department (owner) and its measures (举措, each with
    the day it was done), replaced as given, by the supervisors and admins of its area.
    Returns it as get_campaign shows it.
    Raises AppError campaign.not_found, auth.forbidden, request.invalid (unknown department)."""
    row = _runnable(session, principal, campaign_id)
    lead = body.get("lead_department", row["lead_department_code"])
    _check_department(session, lead)
    measures = (rules.measures_of(body["measures"]) if "measures" in body
                else list(row["measures"] or []))
    queries.set_programme(session, campaign_id, lead_department_code=lead, measures=measures)
    return get_campaign(session, principal, settings, campaign_id)


def hot_spots(session: Session, principal: Principal, settings: Settings, *,
              period: str | None = None, level: str = "community", area: str | None = None,
              min_count: int = rules.HOT_MIN_COUNT, factor=rules.HOT_FACTOR) -> dict:
    """主动治理: the classes (category × area at `level`) where cases concentrate this month
    against the months before — hotline requests and grid reports together — at least
    `min_count` cases and `factor` times the monthly average before (docs/indicators.md); each
    with the campaigns or 每月一题 that take it on (category, an area prefix of its area, days
    overlapping the month), so a supervisor sees which are not yet taken on."""
    factor = Decimal(str(factor))  # the comparison exact, whatever the float
    top = stats_service.top_problems(session, principal, settings, period=period, area=area,
                                     level=level, limit=100)
    first, last = top["period"]["from"], top["period"]["to"]
    campaigns = [c for c in queries.list_campaign_rows(session)
                 if _may(principal, permissions.READ_CAMPAIGNS, c["area_prefix"])]
    items = []
    for it in top["items"]:
        if not rules.is_hot_spot(it["count"], it["previous_average"], min_count, factor):
            continue
        taken = [{"id": c["id"], "name": c["name"], "kind": c["kind"]} for c in campaigns
                 if rules.covers(c, it["category"]["code"], it["area"]["code"] or "",
                                 first, last)]
        items.append({**it, "rise": it["count"] - (it["previous_average"] or 0),
                      "taken_on_by": taken})
    return {"period": top["period"], "level": level, "area": area, "months": top["months"],
            "min_count": min_count, "factor": factor, "items": items}


def propose_hot_spots(session: Session, settings: Settings) -> int:
    """主动治理, the periodic job: the month's hot spots (by community, as GET
    /campaigns/hot-spots finds them over every case) not yet taken on by a campaign or 每月一题
    are proposed to the supervisors closest to their area (the admins when none covers it):
    a notice in their inbox, once per hot spot and month however often the job runs. Returns
    how many hot spots were proposed. Does not commit."""
    found = hot_spots(session, SYSTEM, settings)
    first, last = found["period"]["from"], found["period"]["to"]
    campaigns = queries.list_campaign_rows(session)
    spots = [it for it in found["items"] if it["area"]["code"] and not any(
        rules.covers(c, it["category"]["code"], it["area"]["code"], first, last)
        for c in campaigns)]
    month = found["period"]["label"]
    new = set(queries.record_proposals(session, month, [
        {"category": it["category"]["code"], "area": it["area"]["code"], "count": it["count"]}
        for it in spots]))
    spots = [it for it in spots if (it["category"]["code"], it["area"]["code"]) in new]
    if not spots:
        return 0
    rows = user_queries.supervisors_by_depth(session, sorted({it["area"]["code"]
                                                             for it in spots}))
    notices = []
    for it in spots:
        area = it["area"]["code"]
        people = pick_level([r for r in rows if r["area_code"] == area], "owner",
                            lambda: user_queries.admins(session))
        avg = it["previous_average"]
        notices.append(Notice(nk.HOT_SPOT_PROPOSED, tuple(people), data={
            "month": month, "category": it["category"]["code"],
            "category_name": it["category"]["name"],
            "category_name_en": it["category"]["name_en"], "area_code": area,
            "area_name": it["area"]["name"], "area_name_en": it["area"]["name_en"],
            "count": it["count"], "previous_average": None if avg is None else str(avg)}))
    add_notices(session, notices)
    return len(spots)


def _check_span(starts_on, ends_on) -> None:
    problem = rules.span_problem(starts_on, ends_on)
    if problem:
        field, why = problem
        raise AppError("request.invalid", f"{field}: {why}", {field: [why]})


def _runnable(session: Session, principal: Principal, campaign_id: int):
    row = _visible(session, principal, campaign_id)
    if not _may(principal, permissions.RUN_CAMPAIGNS, row["area_prefix"]):
        raise AppError("auth.forbidden", "Only supervisors and admins of its area change it.")
    return row


def end_campaign(session: Session, principal: Principal, settings: Settings, campaign_id: int,
                 ends_on=None) -> dict:
    """End a campaign on `ends_on` (default: today in the deployment's time zone, or its
    planned last day if earlier). Returns it as get_campaign shows it.
    Raises AppError campaign.not_found, auth.forbidden, request.invalid (before it starts)."""
    row = _runnable(session, principal, campaign_id)
    if ends_on is None:
        ends_on = min(row["ends_on"], rules.today(clock.now(), settings.timezone))
    _check_span(row["starts_on"], ends_on)
    queries.set_ends_on(session, campaign_id, ends_on)
    return get_campaign(session, principal, settings, campaign_id)


def delete_campaign(session: Session, principal: Principal, campaign_id: int) -> None:
    """Delete a campaign and its links (the cases stay). Raises AppError campaign.not_found or
    auth.forbidden."""
    _runnable(session, principal, campaign_id)
    queries.delete_campaign(session, campaign_id)


def relink_campaign(session: Session, principal: Principal, settings: Settings,
                    campaign_id: int) -> dict:
    """Link the cases of the class that came in since the campaign was started (idempotent)."""
    row = _runnable(session, principal, campaign_id)
    _link(session, principal, settings, campaign_id, row["starts_on"], row["ends_on"])
    return get_campaign(session, principal, settings, campaign_id)


def _link(session, principal, settings, campaign_id, starts_on, ends_on) -> int:
    return queries.link_cases(session, principal, campaign_id,
                              start=midnight(starts_on, settings.timezone),
                              end=midnight(ends_on + timedelta(days=1), settings.timezone))


def _visible(session: Session, principal: Principal, campaign_id: int):
    row = queries.find_campaign(session, campaign_id)
    if row is None or not _may(principal, permissions.READ_CAMPAIGNS, row["area_prefix"]):
        raise AppError("campaign.not_found", f"There is no campaign {campaign_id}.")
    return row


def _view(row, by_status: dict) -> dict:
    lead = None
    if row["lead_department_code"]:
        lead = {"code": row["lead_department_code"], "name": row["lead_department_name"],
                "name_en": row["lead_department_name_en"]}
    return {"id": row["id"], "name": row["name"], "kind": row["kind"],
            "lead_department": lead, "measures": list(row["measures"] or []),
            "category": {"code": row["category_code"], "name": row["category_name"],
                         "name_en": row["category_name_en"]},
            "area_prefix": row["area_prefix"], "area_name": row["area_name"],
            "area_name_en": row["area_name_en"],
            "starts_on": row["starts_on"], "ends_on": row["ends_on"], "note": row["note"],
            "created_by_id": row["created_by_id"], "created_at": row["created_at"],
            "linked": sum(by_status.values()), "by_status": by_status}


def get_campaign(session: Session, principal: Principal, settings: Settings,
                 campaign_id: int) -> dict:
    """The campaign, its linked cases (that the caller may see) by status, and recurrence:
    the class's new cases per week in the 8 weeks before it against those since it ended.
    Raises AppError campaign.not_found (missing or outside the caller's scope)."""
    row = _visible(session, principal, campaign_id)
    view = _view(row, queries.linked_counts(session, principal, [campaign_id])[campaign_id])
    tz = settings.timezone
    before, after = rules.windows(row["starts_on"], row["ends_on"], clock.now(), tz)
    first = before.first_day
    last = after.first_day + timedelta(days=max(after.days, 0))
    per_day = queries.new_cases_per_day(
        session, principal, category_code=row["category_code"], area_prefix=row["area_prefix"],
        start=midnight(first, tz), end=midnight(last, tz), tz=tz)

    def window_view(w: rules.Window) -> dict:
        days = [w.first_day + timedelta(days=i) for i in range(w.days)]
        counts = [per_day.get(d, 0) for d in days]
        weekly = [sum(counts[i:i + 7]) for i in range(0, len(counts), 7)]
        return {"from": w.first_day, "to": w.last_day, "days": w.days, "cases": sum(counts),
                "per_week": rules.per_week(sum(counts), w.days), "weekly": weekly}

    b, a = window_view(before), window_view(after)
    view["recurrence"] = {
        "before": b, "after": a,
        "verdict": rules.verdict(b["cases"], b["days"], a["cases"], a["days"]),
    }
    return view


def list_campaigns(session: Session, principal: Principal, kind: str | None = None) -> list[dict]:
    """The campaigns (of a kind: campaign 专项, monthly_topic 每月一题) whose area overlaps the
    caller's scope, latest first, with the linked cases the caller may see by status."""
    rows = [r for r in queries.list_campaign_rows(session)
            if _may(principal, permissions.READ_CAMPAIGNS, r["area_prefix"])
            and kind in (None, r["kind"])]
    counts = queries.linked_counts(session, principal, [r["id"] for r in rows])
    return [_view(r, counts[r["id"]]) for r in rows]
