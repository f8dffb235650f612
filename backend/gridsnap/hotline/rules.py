"""Pure decisions of 接诉即办: how a caller's personal data is masked, and who sees it unmasked.
The vocabulary of a call (source, nature, urgency) is the case's (`cases.rules`), its time
limits the calendar's (`deadlines.rules.hotline_limit`), the callback (回访) a sub-process of
the case loop (`cases.callback`)."""

from __future__ import annotations

import hashlib
import hmac
import re

from ..users.permissions import UNMASK_CALLERS

# who sees a caller's personal data unmasked (each view on the audit trail, invariant 10): the
# holders of the verb (users.permissions), published in GET /api/v1
UNMASKED_ROLES = UNMASK_CALLERS.roles


# 先行联系: the handler of the unit a hotline case is dispatched to may reveal the caller's
# number for that case, stating why (audited like every unmasked view)
REVEAL_REASON_MIN = 4


def may_reveal_number(principal, case: dict, caller) -> bool:
    """Whether a handler (users.permissions.CONTACT_CALLERS) may see this case's caller's
    number: the case came by the hotline,
    it is with the handler's department now, and the caller did not ask to stay anonymous."""
    return (principal.department_code is not None
            and case.get("source") == "hotline"
            and case.get("department_code") == principal.department_code
            and case.get("status") in ("dispatched", "resolved")
            and not caller["anonymous"])


def number_view(row) -> dict:
    """A caller as the responsible unit sees them for 先行联系: the number unmasked, the name
    and e-mail masked."""
    return {**caller_view(row, unmasked=False), "phone": row["phone"], "masked": False}


def mask_phone(phone: str | None) -> str | None:
    """138****1234: the first three and the last four digits; shorter numbers keep only the
    last two. None stays None."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    """王* / 欧阳** / J***: the first character, the rest starred."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def caller_view(row, *, unmasked: bool) -> dict | None:
    """A caller row as shown: masked unless `unmasked`; an anonymous caller's name is never
    shown to anyone but those who see it unmasked."""
    if row is None:
        return None
    if unmasked:
        return {"name": row["name"], "phone": row["phone"], "email": row["email"],
                "anonymous": row["anonymous"], "masked": False}
    return {"name": None if row["anonymous"] else mask_name(row["name"]),
            "phone": mask_phone(row["phone"]), "email": mask_email(row["email"]),
            "anonymous": row["anonymous"], "masked": True}


# --- repeat callers (重复来电) -----------------------------------------------------------------

def normalise_phone(phone: str | None) -> str | None:
    """A number as compared: its digits, without China's country code (+86, 0086) on a
    mobile number: "+86 138-0013-8000" and "13800138000" are one caller. None for a number
    with fewer than 3 digits."""
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 \
                and digits[len(prefix)] == "1":
            digits = digits[len(prefix):]
    return digits if len(digits) >= 3 else None


def phone_hash(key: bytes, phone: str | None) -> bytes | None:
    """HMAC-SHA256 of the normalised number under a server key (32 bytes), or None."""
    number = normalise_phone(phone)
    if number is None:
        return None
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).digest()


def phone_hashes(keys, phone: str | None) -> list[tuple[str, bytes]]:
    """The number's hash under every configured key ((key id, hash)), to find the calls hashed
    before the current key came in."""
    out = []
    for kid, key in keys:
        h = phone_hash(key, phone)
        if h is not None:
            out.append((kid, h))
    return out
