"""What every schema at the edge shares: the one rule for text, and dates and times bounded to
what PostgreSQL, Python and the working calendar can hold (invariant 5: bad input is a 422
naming the field, never a 500).

The text rule (applied once, to every JSON value and key, query parameter, form field and path
parameter, by gridsnap.edge): a NUL, a lone surrogate (half of a UTF-16 pair), any other
control character but tab, line feed and carriage return (C0, DEL, C1), and the bidi controls
that reorder what a reader sees (U+202A–U+202E, U+2066–U+2069) are refused with 422
`request.invalid_text` naming the field. Refused rather than stripped: the trail records what
a person sent, and silently changed evidence is worse than a clear error the client can show.

Dates and times: between MIN_DAY and MAX_DAY (UTC), so that adding a day, a week or a working
calendar's span never leaves Python's or PostgreSQL's range. Times are written as RFC 3339:
an offset that is not whole minutes (a historic local mean time such as +08:05:43) is written
in UTC instead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from marshmallow import ValidationError, fields

# A case is the report it began as: one id. Inside (every table's column, SQL, the services) it
# is `report_id`; the API keeps the names it published: `case_id` where it speaks of cases
# (/cases/{case_id}, a notification, the hotline) and `report_id` where of reports
# (/reports/{report_id}, its photos, an upload's binding, a notice). Every id field at the edge
# that names a case is made here, so the two names are documented as one.
SAME_CASE = ("The case's id, which is the id of the report it began as: /cases/{case_id} and "
             "/reports/{report_id} name the same case.")


def case_id_field(**kwargs) -> fields.UUID:
    """A UUID field naming a case (its data key may be case_id or report_id: the same id)."""
    metadata = {"description": SAME_CASE, **kwargs.pop("metadata", {})}
    return fields.UUID(metadata=metadata, **kwargs)


MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(2199, 12, 31)

# a month, YYYY-MM, within MIN_DAY..MAX_DAY
MONTH_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])$"

_BAD_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why this text is refused (the first offending character named), or None if it is fine."""
    m = _BAD_TEXT.search(value)
    if m is None:
        return None
    ch = m.group()
    if ch == "\x00":
        return "Contains a NUL character (U+0000)."
    if "\ud800" <= ch <= "\udfff":
        return f"Contains a lone surrogate (U+{ord(ch):04X}): not valid Unicode text."
    if "\u202a" <= ch <= "\u2069":
        return f"Contains a bidirectional control character (U+{ord(ch):04X})."
    return f"Contains a control character (U+{ord(ch):04X})."


def _in_range(day: date) -> bool:
    return MIN_DAY <= day <= MAX_DAY


_RANGE_MESSAGE = f"Must lie between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}."


class AwareDateTime(fields.AwareDateTime):
    """A date-time with an offset, within MIN_DAY..MAX_DAY in UTC; written as RFC 3339."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        try:
            utc = result.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(_RANGE_MESSAGE) from None
        if not _in_range(utc.date()):
            raise ValidationError(_RANGE_MESSAGE)
        return result

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is not None:
            offset = value.utcoffset()
            if offset is not None and offset.total_seconds() % 60:
                # RFC 3339 offsets are hours and minutes: a local mean time goes out in UTC
                value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Date(fields.Date):
    """A calendar day within MIN_DAY..MAX_DAY."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not _in_range(result):
            raise ValidationError(_RANGE_MESSAGE)
        return result
