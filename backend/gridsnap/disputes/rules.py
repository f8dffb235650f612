"""Pure decisions of 矛盾纠纷: the vocabulary of a dispute, the mediation steps and their
deadlines, who sees a dispute, how its parties are shown, and the figures' rates."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from ..events import rules as ev
from ..grid.rules import PREFIX_LENGTH
from ..hotline.rules import mask_name, mask_phone
from ..users.permissions import (
    MEDIATE_DISPUTES,
    OVERSEE_DISPUTES,
    READ_DISPUTE,
    UNMASK_PARTIES,
    WORK_DISPUTE,
    Verb,
    may,
)
from ..users.rules import Principal

# 纠纷类别: neighbours 邻里, family 婚姻家庭, property 物业, labour 劳资, land 土地, other 其他
KINDS = ("neighbours", "family", "property", "labour", "land", "other")
# 风险等级: 一般, 较大, 可能激化 (may turn violent: the street's 综治 office hears at once)
RISKS = ("normal", "elevated", "may_escalate")
VOLATILE = "may_escalate"
# reported 已排查 → accepted 已受理 → mediating 调解中 → agreed 达成协议 → closed 已回访;
# or, mediation failing, transferred 已转交 (to the police, a court or 信访)
STATUSES = ("reported", "accepted", "mediating", "agreed", "transferred", "closed")
OPEN_STATUSES = ("reported", "accepted", "mediating")
RESOLVED_STATUSES = ("agreed", "closed")  # 化解: an agreement was reached
# 转交: who takes a dispute mediation could not settle
TRANSFER_BODIES = ("police", "court", "petition", "other")
PARTIES_MAX = 10

# the street's 综治 office: a scope this long or shorter (a street, a district, the city)
STREET_LENGTH = PREFIX_LENGTH["street"]


@dataclass(frozen=True)
class Step:
    """A step of mediation: from which statuses, to which, the event it leaves on the trail,
    and whether it needs a note."""

    name: str
    from_statuses: frozenset[str]
    to_status: str
    event: str
    needs_note: bool = False


_WORKING = frozenset({"accepted", "mediating"})
STEPS: dict[str, Step] = {s.name: s for s in (
    Step("accept", frozenset({"reported"}), "accepted", ev.DISPUTE_ACCEPTED),  # 受理
    Step("hold_session", _WORKING, "mediating", ev.DISPUTE_SESSION_HELD),  # 调解
    Step("agree", _WORKING, "agreed", ev.DISPUTE_AGREED),  # 达成协议
    Step("transfer", _WORKING, "transferred", ev.DISPUTE_TRANSFERRED, needs_note=True),
    Step("follow_up", frozenset({"agreed"}), "closed", ev.DISPUTE_FOLLOWED_UP),  # 回访
)}


@dataclass(frozen=True)
class Limits:
    """The deadlines of mediation (settings): hours to accept (受理) an ordinary and a 可能激化
    dispute, days to settle it once accepted, days to the follow-up visit after an agreement."""

    accept_hours: int = 24
    volatile_hours: int = 2
    mediation_days: int = 30
    follow_up_days: int = 15


def accept_due_at(risk: str, received_at: datetime, limits: Limits) -> datetime:
    hours = limits.volatile_hours if risk == VOLATILE else limits.accept_hours
    return received_at + timedelta(hours=hours)


def resolve_due_at(accepted_at: datetime, limits: Limits) -> datetime:
    return accepted_at + timedelta(days=limits.mediation_days)


def follow_up_due_at(agreed_at: datetime, limits: Limits) -> datetime:
    return agreed_at + timedelta(days=limits.follow_up_days)


def step_problem(step: Step, status: str, note: str | None) -> tuple[str, str] | None:
    """(code, why) if the step cannot be taken now, else None."""
    if status not in step.from_statuses:
        return "dispute.invalid_step", f"A dispute {status} cannot take the step {step.name}."
    if step.needs_note and not (note or "").strip():
        return "dispute.note_required", f"The step {step.name} needs a note saying why."
    return None


def area_scopes(p: Principal) -> tuple[str, ...]:
    """The scopes under which the principal sees and works every dispute: a mediator's
    scopes; a 综治 office's (a supervisor's or admin's) scopes of a street or wider — a
    supervisor of one community is not the street's 综治 office."""
    if may(p, MEDIATE_DISPUTES):
        return p.scopes
    if may(p, OVERSEE_DISPUTES):
        return tuple(s for s in p.scopes if len(s) <= STREET_LENGTH)
    return ()


def covers(scopes: tuple[str, ...], area_code: str | None) -> bool:
    """A dispute outside every area belongs to the city scope ''."""
    if "" in scopes:
        return True
    return area_code is not None and any(area_code.startswith(s) for s in scopes)


@dataclass(frozen=True)
class DisputeSubject:
    """A dispute as the subject of a permission verb: its reporter sees it; the mediators and
    综治 office of its area see and work it; nobody else knows it exists (404)."""

    dispute_id: object
    reporter_id: int | None
    area_code: str | None

    def in_area_of(self, p: Principal) -> bool:
        return covers(area_scopes(p), self.area_code)

    def visible_to(self, p: Principal) -> bool:
        return p.id == self.reporter_id or self.in_area_of(p)

    def allows(self, p: Principal, verb: Verb) -> bool:
        if verb.name == READ_DISPUTE.name:
            return True
        if verb.name in (WORK_DISPUTE.name, UNMASK_PARTIES.name):
            return self.in_area_of(p)
        return False

    def not_found(self) -> tuple[str, str]:
        return "dispute.not_found", f"There is no dispute {self.dispute_id}."


@dataclass(frozen=True)
class MissingDispute:
    dispute_id: object

    def visible_to(self, p: Principal) -> bool:
        return False

    def allows(self, p: Principal, verb: Verb) -> bool:
        return False

    def not_found(self) -> tuple[str, str]:
        return "dispute.not_found", f"There is no dispute {self.dispute_id}."


def subject_of(row, dispute_id) -> DisputeSubject | MissingDispute:
    if row is None:
        return MissingDispute(dispute_id)
    return DisputeSubject(dispute_id, row["reporter_id"], row["area_code"])


def party_view(party: dict, *, unmasked: bool) -> dict:
    """A party as shown: masked like a 12345 caller unless `unmasked` (audited)."""
    if unmasked:
        return {"name": party["name"], "phone": party["phone"], "masked": False}
    return {"name": mask_name(party["name"]), "phone": mask_phone(party["phone"]),
            "masked": True}


def fingerprint(*, reporter_id: int, body: dict) -> bytes:
    """SHA-256 of the canonical submission: equal for an identical replay (invariant 2)."""
    loc = body["location"]
    canonical = {
        "reporter": reporter_id, "kind": body["kind"], "risk": body["risk"],
        "description": body.get("description") or "", "address": body.get("address") or None,
        "lon": round(loc["lon"], 7), "lat": round(loc["lat"], 7),
        "accuracy_m": None if loc.get("accuracy_m") is None else round(loc["accuracy_m"], 2),
        "captured_at": body["captured_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "parties": [[p["name"], p.get("phone") or None] for p in body["parties"]],
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).digest()


def rate(part: int, whole: int) -> float | None:
    """A rate in [0, 1] rounded to 4 places; None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return round(float(Fraction(part, whole)), 4)


# a photo of the signed agreement (人民调解协议书): the photo types the case photos take
# (photos.imaging.ALLOWED_TYPES), its sizes, from which statuses, how many a dispute keeps
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
PHOTO_SIZES = ("thumb", "display", "original")
PHOTO_STATUSES = frozenset({"agreed", "closed"})
PHOTOS_MAX = 10


def photo_problem(status: str, count: int) -> tuple[str, str] | None:
    """(code, why) if an agreement photo cannot be added to a dispute of this status that has
    `count` already, else None."""
    if status not in PHOTO_STATUSES:
        return ("dispute.not_agreed",
                f"A dispute {status} has no agreement to photograph: take the step agree first.")
    if count >= PHOTOS_MAX:
        return "dispute.too_many_photos", f"A dispute keeps at most {PHOTOS_MAX} agreement photos."
    return None


def may_get_original(p: Principal, subject: DisputeSubject, uploader_id: int | None) -> bool:
    """The uploaded bytes keep their EXIF (the place, the camera): like a case photo's original,
    only for the uploader and the 综治 office (overseers) of the dispute's area; everyone else
    who sees the dispute gets the EXIF-free sizes."""
    if p.id == uploader_id:
        return True
    return may(p, OVERSEE_DISPUTES) and covers(area_scopes(p), subject.area_code)


def photo_view(photo, dispute_id, *, original: bool) -> dict:
    """An agreement photo as the API lists it on its dispute, with the URLs of the sizes the
    caller may fetch (the original only if may_get_original said `original`)."""
    base = f"/api/v1/disputes/{dispute_id}/agreement-photos/{photo['id']}"
    return {k: photo[k] for k in ("id", "sha256", "content_type", "size_bytes", "width",
                                  "height", "uploaded_at", "uploader_id", "uploader_name")} | {
        "urls": {size: f"{base}?size={size}" for size in PHOTO_SIZES
                 if size != "original" or original}}


# the figures' groupings: by kind, or by the area of a level
GROUPINGS = ("kind", "street", "community")
