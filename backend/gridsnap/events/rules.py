"""The names of audit events: past-tense facts, defined once (readers such as the evaluation
match on them)."""

from __future__ import annotations

REPORT_SUBMITTED = "report.submitted"
REPORT_ROUTED = "report.routed"
PHOTO_ADDED = "photo.added"
PHOTO_PROCESSED = "photo.processed"
CASE_POSSIBLE_DUPLICATE = "case.possible_duplicate"
CASE_OVERDUE = "case.overdue"
CASE_ESCALATED = "case.escalated"
# the running deadline counted again after the holiday data changed (a notice added):
# data {stage, due_at, old_due_at, guessed_years, old_guessed_years, overdue_cleared}
CASE_DEADLINE_RECOMPUTED = "case.deadline_recomputed"

# one event per action of the closed loop (cases.rules.ACTIONS names its event)
CASE_ACCEPTED = "case.accepted"
CASE_REJECTED = "case.rejected"
CASE_MERGED = "case.merged"
CASE_UNMERGED = "case.unmerged"
CASE_DISPATCHED = "case.dispatched"
CASE_SIGNED = "case.signed"
CASE_RETURNED = "case.returned"
CASE_EXTENSION_REQUESTED = "case.extension_requested"
CASE_EXTENSION_APPROVED = "case.extension_approved"
CASE_EXTENSION_REFUSED = "case.extension_refused"
CASE_RESOLVED = "case.resolved"
CASE_VERIFIED = "case.verified"
CASE_REWORK_ORDERED = "case.rework_ordered"
CASE_CLOSED = "case.closed"
# 接诉即办
CASE_ANSWERED = "case.answered"  # 即时答复: a consultation answered on the call, closed at once
CASE_CALLBACK_RECORDED = "case.callback_recorded"  # 回访: one try, reached or not
CASE_REOPENED = "case.reopened"  # 重新办理 after 不满意 or 未解决 (counted as rework)
CALLER_VIEWED = "caller.viewed"  # someone saw the caller's personal data unmasked
