"""Use cases of 矛盾纠纷: report a dispute (offline-safe), read it, work its mediation steps,
see its parties unmasked (audited), escalate the unattended 可能激化 ones, and the figures. In
the caller's transaction (the API's edge or the job runner commits)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..events import rules as ev
from ..notifications import rules as nk
from ..notifications.rules import Notice
from ..photos.imaging import (
    EXTENSIONS,
    PhotoError,
    inspect_image,
    make_derivatives_bounded,
    sha256_hex,
)
from ..reports.rules import capture_time_problem
from ..settings import Settings
from ..storage import PhotoStorage, derivative_key, original_key
from ..users import permissions as perm
from ..users.rules import Principal
from . import queries, rules


@dataclass
class Submitted:
    dispute: dict
    created: bool


def limits_of(settings: Settings) -> rules.Limits:
    return rules.Limits(accept_hours=settings.dispute_accept_hours,
                        volatile_hours=settings.dispute_escalate_hours,
                        mediation_days=settings.dispute_mediation_days,
                        follow_up_days=settings.dispute_follow_up_days)


def _staff(session: Session, area_code: str | None) -> dict[str, list[int]]:
    return queries.staff_of(session, area_code, mediate_roles=perm.MEDIATE_DISPUTES.roles,
                            oversee_roles=perm.OVERSEE_DISPUTES.roles,
                            oversee_max_length=rules.STREET_LENGTH)


def _notice_data(row) -> dict:
    # what an inbox may carry: never the parties nor the description (in confidence)
    return {"dispute_id": str(row["id"]), "number": row["number"], "kind": row["kind"],
            "risk": row["risk"]}


def submit_dispute(session: Session, principal: Principal, dispute_id: uuid.UUID, body: dict,
                   settings: Settings) -> Submitted:
    """矛盾纠纷随时报: record a dispute under the id the phone made (invariant 2: an identical
    replay is answered as it was, other content under the same id is dispute.id_conflict).
    Tells the community's mediators; a 可能激化 dispute tells the street's 综治 office at once.
    Raises AppError auth.forbidden, dispute.id_conflict, dispute.not_found (an id taken by a
    dispute the caller may not see), report.implausible_time."""
    perm.require(principal, perm.REPORT_DISPUTES)
    fp = rules.fingerprint(reporter_id=principal.id, body=body)
    now = clock.now()
    problem = capture_time_problem(
        body["captured_at"], now, max_age_days=settings.captured_max_age_days,
        max_ahead_seconds=settings.captured_max_ahead_seconds)
    if problem is None:
        loc = body["location"]
        hit = queries.insert_dispute(session, {
            "id": dispute_id, "reporter_id": principal.id, "kind": body["kind"],
            "risk": body["risk"], "description": body.get("description") or "",
            "address": body.get("address") or None, "lon": loc["lon"], "lat": loc["lat"],
            "accuracy_m": loc.get("accuracy_m"), "captured_at": body["captured_at"],
            "fingerprint": fp, "event": ev.DISPUTE_REPORTED,
            "accept_due_at": rules.accept_due_at(body["risk"], now, limits_of(settings)),
        }, body["parties"])
        if hit is not None:
            row = queries.find_dispute(session, dispute_id)
            staff = _staff(session, row["area_code"])
            found = [Notice(nk.DISPUTE_REPORTED, tuple(staff["mediators"]),
                            data=_notice_data(row))]
            if row["risk"] == rules.VOLATILE:
                found.append(Notice(nk.DISPUTE_VOLATILE, tuple(staff["office"]),
                                    data=_notice_data(row)))
            queries.add_notices(session, found)
            return Submitted(_view(session, principal, row), created=True)
    existing = queries.find_dispute(session, dispute_id)
    if existing is not None:
        perm.require(principal, perm.READ_DISPUTE, rules.subject_of(existing, dispute_id))
    if existing is not None and bytes(existing["fingerprint"]) == fp:
        return Submitted(_view(session, principal, existing), created=False)
    if problem is not None:
        raise AppError("report.implausible_time", f"captured_at: {problem}",
                       {"captured_at": [problem]})
    raise AppError("dispute.id_conflict",
                   f"Dispute {dispute_id} exists already with different content; make a new "
                   "id for a new dispute.")


def _visible(session: Session, principal: Principal, dispute_id: uuid.UUID, *,
             lock: bool = False):
    row = queries.find_dispute(session, dispute_id, lock=lock)
    perm.require(principal, perm.READ_DISPUTE, rules.subject_of(row, dispute_id))
    return row


def _view(session: Session, principal: Principal, row, *, parties=None, photos=None,
          unmasked: bool = False, steps: bool | list = False) -> dict:
    if parties is None:
        parties = queries.parties_of(session, [row["id"]])[row["id"]]
    if photos is None:
        photos = queries.photos_of(session, [row["id"]])[row["id"]]
    subject = rules.subject_of(row, row["id"])
    out = {k: row[k] for k in (
        "id", "number", "reporter_id", "reporter_name", "kind", "risk", "description",
        "address", "area_code", "area_name", "captured_at", "received_at", "status",
        "accept_due_at", "accepted_at", "resolve_due_at", "resolved_at", "follow_up_due_at",
        "closed_at", "escalated_at", "agreement", "transferred_to", "transferred_body")}
    out["location"] = {"lon": row["lon"], "lat": row["lat"], "accuracy_m": row["accuracy_m"]}
    out["parties"] = [rules.party_view(p, unmasked=unmasked) for p in parties]
    # the signed paper names the parties in full: only those who may unmask them see it
    out["agreement_photos"] = [rules.photo_view(
        p, row["id"], original=rules.may_get_original(principal, subject, p["uploader_id"]))
        for p in photos] if perm.may(principal, perm.UNMASK_PARTIES, subject) else []
    works = perm.may(principal, perm.WORK_DISPUTE, subject)
    out["allowed_steps"] = ([name for name, s in rules.STEPS.items()
                             if row["status"] in s.from_statuses] if works else [])
    out["may_unmask"] = perm.may(principal, perm.UNMASK_PARTIES, subject)
    if isinstance(steps, list):
        out["steps"] = steps
    elif steps:
        out["steps"] = [dict(s) for s in queries.steps_of(session, row["id"])]
    return out


def get_dispute(session: Session, principal: Principal, dispute_id: uuid.UUID, *,
                unmasked: bool = False) -> dict:
    """The dispute with its trail; its parties masked, or unmasked for its mediators and
    综治 office — each such view on its trail (invariant 10). Raises AppError
    dispute.not_found (missing or not the caller's to see), auth.forbidden (unmasked asked by
    someone who may not)."""
    row = _visible(session, principal, dispute_id)
    if unmasked:
        perm.require(principal, perm.UNMASK_PARTIES, rules.subject_of(row, dispute_id))
        queries.apply_step(session, dispute_id, actor_id=principal.id,
                           event=ev.DISPUTE_PARTIES_VIEWED, from_status=None, to_status=None,
                           note=None, data={}, changes={})
    return _view(session, principal, row, unmasked=unmasked, steps=True)


def list_disputes(session: Session, principal: Principal, *, statuses=None, mine=False,
                  steps: bool = False, page: int = 1, page_size: int = 50
                  ) -> tuple[list[dict], int]:
    """The disputes the caller sees (their own, and those of the area they mediate or
    oversee), newest first, parties masked; with `steps` each one's trail (one statement
    more for the page, not one per dispute); and their total."""
    rows, total = queries.list_disputes(
        session, principal.id, rules.area_scopes(principal), statuses=statuses, mine=mine,
        page=page, page_size=page_size)
    ids = [r["id"] for r in rows]
    parties = queries.parties_of(session, ids)
    photos = queries.photos_of(session, ids)
    trails = queries.steps_of_many(session, ids) if steps else {}
    return [_view(session, principal, r, parties=parties[r["id"]], photos=photos[r["id"]],
                  steps=trails.get(r["id"], False)) for r in rows], total


def take_step(session: Session, principal: Principal, settings: Settings,
              dispute_id: uuid.UUID, body: dict) -> dict:
    """One step of mediation (受理, 调解, 达成协议, 转交, 回访) by the dispute's mediators or
    综治 office. Returns the dispute as get_dispute shows it (masked). With `client_step_id`
    (the phone's id of the step) a step already taken under it is answered as the dispute now
    stands and not taken again: the desk's outbox may send it twice.
    Raises AppError dispute.not_found, auth.forbidden, dispute.invalid_step (not from its
    status), dispute.note_required, request.invalid (the step's details missing)."""
    row = _visible(session, principal, dispute_id, lock=True)
    perm.require(principal, perm.WORK_DISPUTE, rules.subject_of(row, dispute_id))
    client_step_id = body.get("client_step_id")
    if client_step_id is not None:
        # the row is locked: a replay racing its first sending waits here, then finds it
        taken = queries.step_by_client_id(session, dispute_id, client_step_id)
        if taken is not None:
            return _view(session, principal, row, steps=True)
    step = rules.STEPS[body["step"]]
    note = (body.get("note") or "").strip() or None
    problem = rules.step_problem(step, row["status"], note)
    if problem:
        code, why = problem
        raise AppError(code, why, {"note": [why]} if code == "dispute.note_required" else {})
    now = clock.now()
    limits = limits_of(settings)
    changes: dict = {"status": step.to_status}
    data: dict = {}
    if step.name == "accept":
        changes |= {"accepted_at": now, "resolve_due_at": rules.resolve_due_at(now, limits)}
        data = {"resolve_due_at": changes["resolve_due_at"].isoformat()}
    elif step.name == "hold_session":
        session_in = _required(body, "session")
        data = {"held_on": session_in["held_on"].isoformat(),
                "participants": session_in["participants"],
                "notes": session_in.get("notes") or ""}
    elif step.name == "agree":
        agreement = (_required(body, "agreement") or "").strip()
        if not agreement:
            raise AppError("request.invalid", "agreement: the terms agreed are needed.",
                           {"agreement": ["Missing."]})
        on_time = row["resolve_due_at"] is None or now <= row["resolve_due_at"]
        changes |= {"agreement": agreement, "resolved_at": now,
                    "follow_up_due_at": rules.follow_up_due_at(now, limits)}
        data = {"on_time": on_time}
    elif step.name == "transfer":
        to = _required(body, "transfer")
        changes |= {"resolved_at": now, "transferred_to": to["to"],
                    "transferred_body": to["body"]}
        data = {"to": to["to"], "body": to["body"]}
    elif step.name == "follow_up":
        visit = _required(body, "follow_up")
        changes |= {"closed_at": now}
        data = {"visited_on": visit["visited_on"].isoformat(), "holds": visit["holds"],
                "notes": visit.get("notes") or ""}
    if client_step_id is not None:
        data["client_step_id"] = str(client_step_id)
    queries.apply_step(session, dispute_id, actor_id=principal.id, event=step.event,
                       from_status=row["status"], to_status=step.to_status, note=note,
                       data=data, changes=changes)
    return _view(session, principal, queries.find_dispute(session, dispute_id), steps=True)


def _required(body: dict, name: str):
    value = body.get(name)
    if value is None:
        raise AppError("request.invalid", f"{name}: needed for the step {body['step']}.",
                       {name: ["Missing for this step."]})
    return value


def add_agreement_photo(session: Session, storage: PhotoStorage, settings: Settings,
                        principal: Principal, dispute_id: uuid.UUID, photo_id: uuid.UUID,
                        data: bytes, content_type: str) -> tuple[dict, bool]:
    """Attach a photo of the signed agreement (人民调解协议书) under the phone's photo id, by
    the dispute's mediators or 综治 office once it is agreed. Returns (the photo as listed on
    the dispute, created): the same bytes under the same id again store nothing twice.
    Checked like a case photo (photos.imaging: the type sniffed, the pixel bound, a truncated
    file refused); its thumb and display JPEGs, without any metadata, are made here (a large
    image in a memory-capped child). The bytes are stored before the row, the row and its line
    on the trail in one statement: a refusal leaves nothing, an acknowledged photo has its files.
    Raises AppError dispute.not_found, auth.forbidden, photo.id_conflict, dispute.not_agreed,
    dispute.too_many_photos, photo.unsupported_type, photo.too_large, photo.not_an_image,
    photo.too_many_pixels, photo.storage_failed."""
    row = _visible(session, principal, dispute_id, lock=True)
    subject = rules.subject_of(row, dispute_id)
    perm.require(principal, perm.WORK_DISPUTE, subject)
    digest = sha256_hex(data)
    existing = queries.find_photo(session, photo_id)
    if existing is not None:
        if existing["dispute_id"] == dispute_id and existing["sha256"] == digest:
            return _photo(principal, subject, existing), False
        raise AppError("photo.id_conflict",
                       f"Photo {photo_id} exists already with other content or another dispute.")
    present = queries.photos_of(session, [dispute_id])[dispute_id]
    problem = rules.photo_problem(row["status"], len(present))
    if problem:
        raise AppError(*problem)
    if content_type not in rules.PHOTO_TYPES:
        raise AppError("photo.unsupported_type",
                       "Send the photo as image/jpeg, image/png or image/webp.",
                       {"Content-Type": [f"{content_type or 'none'} is not accepted."]})
    if len(data) > settings.photo_max_bytes:
        raise AppError("photo.too_large",
                       f"The photo is larger than {settings.photo_max_bytes} bytes.")
    try:
        info = inspect_image(data, content_type, max_pixels=settings.photo_max_pixels)
        sizes = make_derivatives_bounded(data, max_pixels=settings.photo_max_pixels,
                                         memory_bytes=settings.photo_decode_max_bytes)
    except PhotoError as exc:
        raise AppError(exc.code, exc.message) from None
    keys = {"original_key": original_key(digest, EXTENSIONS[content_type]),
            "thumb_key": derivative_key(digest, "thumb"),
            "display_key": derivative_key(digest, "display")}
    try:
        storage.put(keys["original_key"], data, content_type)
        for size in ("thumb", "display"):
            storage.put(keys[f"{size}_key"], sizes[size].data, "image/jpeg")
    except OSError as exc:
        raise AppError("photo.storage_failed", "The photo could not be stored; try again later.",
                       headers={"Retry-After": "30"}) from exc
    created = queries.insert_photo(session, {
        "id": photo_id, "dispute_id": dispute_id, "uploader_id": principal.id, "sha256": digest,
        "content_type": content_type, "size_bytes": len(data), "width": info.width,
        "height": info.height, **keys}, event=ev.DISPUTE_AGREEMENT_PHOTO_ADDED,
        status=row["status"])
    found = queries.find_photo(session, photo_id)
    if not created and (found["dispute_id"] != dispute_id or found["sha256"] != digest):
        raise AppError("photo.id_conflict",
                       f"Photo {photo_id} exists already with other content or another dispute.")
    return _photo(principal, subject, found), created


def _photo(principal: Principal, subject, photo) -> dict:
    return rules.photo_view(photo, subject.dispute_id, original=rules.may_get_original(
        principal, subject, photo["uploader_id"]))


def agreement_photo_file(session: Session, principal: Principal, dispute_id: uuid.UUID,
                         photo_id: uuid.UUID, size: str) -> tuple[str, str, str]:
    """(storage key, content type, etag) of an agreement photo of a dispute the caller sees:
    the thumb or display JPEG (EXIF-free) for those who may see its parties unmasked (the paper
    names them in full; the reporting worker sees them masked, so not the photo), the original
    only for those rules.may_get_original lets have it. Raises AppError dispute.not_found (the
    dispute missing or not the caller's to see), photo.not_found (no such photo on it, or an
    original the caller may not have: they are not told it exists)."""
    row = _visible(session, principal, dispute_id)
    photo = queries.find_photo(session, photo_id)
    if (photo is None or photo["dispute_id"] != dispute_id
            or not perm.may(principal, perm.UNMASK_PARTIES, rules.subject_of(row, dispute_id))):
        # the signed paper names the parties in full: not for those who see them masked
        raise AppError("photo.not_found", f"There is no photo {photo_id} on this dispute.")
    if size == "original":
        if not rules.may_get_original(principal, rules.subject_of(row, dispute_id),
                                      photo["uploader_id"]):
            raise AppError("photo.not_found",
                           f"There is no original of photo {photo_id} for you; ask for the "
                           "display size.")
        return photo["original_key"], photo["content_type"], f"{photo['sha256']}-o"
    return photo[f"{size}_key"], "image/jpeg", f"{photo['sha256']}-{size[0]}"


def escalate_unattended(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """The sweep: every 可能激化 dispute not accepted by its deadline is escalated once — on
    its trail, and the 综治 offices up to the district told. Returns how many."""
    now = now or clock.now()
    rows = queries.unattended_volatile(session, now)
    found = []
    for row in rows:
        queries.apply_step(session, row["id"], actor_id=None, event=ev.DISPUTE_ESCALATED,
                           from_status=row["status"], to_status=row["status"], note=None,
                           data={"due_at": row["accept_due_at"].isoformat()},
                           changes={"escalated_at": now})
        found.append(Notice(nk.DISPUTE_ESCALATED, tuple(_staff(session, row["area_code"])
                                                        ["office"]), data=_notice_data(row)))
    queries.add_notices(session, found)
    return len(rows)


def dispute_figures(session: Session, principal: Principal, *, start: datetime, end: datetime,
                    by: str, area_prefix: str = "") -> list[dict]:
    """排查数, 化解数, 化解率, 按期化解率, 转交数 by kind or area over the disputes found in
    [start, end) in the caller's mediating or 综治 area: counts only, never a dispute's
    details. Raises AppError auth.forbidden."""
    perm.require(principal, perm.READ_DISPUTE_FIGURES)
    rows = queries.figures(session, rules.area_scopes(principal), start=start, end=end, by=by,
                           area_prefix=area_prefix)
    return [{"key": r["key"], "found": r["found"], "resolved": r["resolved"],
             "resolution_rate": rules.rate(r["resolved"], r["found"]),
             "resolved_on_time": r["resolved_on_time"],
             "on_time_rate": rules.rate(r["resolved_on_time"], r["resolved"]),
             "transferred": r["transferred"], "open": r["open"]} for r in rows]
