"""The names of audit events: past-tense facts, defined once (readers such as the evaluation
match on them)."""

from __future__ import annotations

REPORT_SUBMITTED = "report.submitted"
REPORT_ROUTED = "report.routed"
PHOTO_ADDED = "photo.added"
PHOTO_PROCESSED = "photo.processed"
# the possible duplicates a new case was linked to, one event a case: data {links: [{other_id,
# distance_m}, …]} nearest first (older trails: one event a link, data
# {other_id, distance_m})
CASE_POSSIBLE_DUPLICATE = "case.possible_duplicate"
# 重复诉求: a 12345 request linked to an earlier one of its class at the same place
# data {other_id, distance_m}
CASE_REPEAT_REQUEST = "case.repeat_request"
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
CASE_RETURNED = "case.returned"  # 退单: data {reason, department_code, review}
# 退单审核: the supervisor approves the return (a wrong dispatch: 派遣准确率) or refuses it
CASE_RETURN_APPROVED = "case.return_approved"  # data {department_code, reason}
CASE_RETURN_REFUSED = "case.return_refused"  # data {department_code, due_at, stage}
# 挂账/缓办: the long-term list, back on its review date
CASE_SUSPENSION_REQUESTED = "case.suspension_requested"  # data {reason_kind, review_on}
CASE_SUSPENDED = "case.suspended"  # data {reason_kind, review_on, department_code}
CASE_SUSPENSION_REFUSED = "case.suspension_refused"
CASE_RESUMED = "case.resumed"  # data {department_code, due_at, stage, by}
CASE_EXTENSION_REQUESTED = "case.extension_requested"
CASE_EXTENSION_APPROVED = "case.extension_approved"
CASE_EXTENSION_REFUSED = "case.extension_refused"
CASE_RESOLVED = "case.resolved"
CASE_VERIFIED = "case.verified"
CASE_REWORK_ORDERED = "case.rework_ordered"
CASE_CLOSED = "case.closed"
# 街乡吹哨、部门报到: a joint case with a lead department (主办) and co-departments (协办)
CASE_WHISTLED = "case.whistled"  # data {lead, co, report_due_at, due_at, stage}
CASE_REPORTED_IN = "case.reported_in"  # 报到: data {department_code, report_due_at, late}
CASE_JOINT_FEEDBACK = "case.joint_feedback"  # a co-department's feedback: {department_code}
# 督办: a supervision notice to a department, and its reply
CASE_NOTICE_ISSUED = "case.notice_issued"  # data {notice_id, department_code, reply_due_at}
CASE_NOTICE_REPLIED = "case.notice_replied"  # data {notice_id, department_code, late}
# 接诉即办
CASE_CONTACTED = "case.contacted"  # 先行联系: the unit tried to reach the caller (outcome)
CASE_ANSWERED = "case.answered"  # 即时答复: a consultation answered on the call, closed at once
CASE_CALLBACK_RECORDED = "case.callback_recorded"  # 回访: one try, reached or not
CASE_REOPENED = "case.reopened"  # 重新办理 after 不满意 or 未解决 (counted as rework)
# 不合理诉求 and 申诉: a unit asks, the centre decides (data {exclusion_id, kind, reason_kind})
CASE_EXCLUSION_REQUESTED = "case.exclusion_requested"  # 申请剔除 (unreasonable, duplicate, …)
CASE_EXCLUDED = "case.excluded"  # approved: the request leaves the three rates (trail kept)
CASE_EXCLUSION_REFUSED = "case.exclusion_refused"
CASE_APPEALED = "case.appealed"  # 申诉 of the rated result (the callback's answers)
CASE_RATING_REDUCED = "case.rating_reduced"  # 核减: the rated result leaves the rates
CASE_APPEAL_REFUSED = "case.appeal_refused"
CALLER_VIEWED = "caller.viewed"  # someone saw the caller's personal data unmasked

# 矛盾纠纷: a dispute's own trail (dispute_steps, written by disputes only), never a case's
DISPUTE_REPORTED = "dispute.reported"  # data {kind, risk}
DISPUTE_ACCEPTED = "dispute.accepted"  # 受理: data {resolve_due_at}
DISPUTE_SESSION_HELD = "dispute.session_held"  # 调解: data {held_on, participants, notes}
DISPUTE_AGREED = "dispute.agreed"  # 达成协议: data {agreement, on_time}
DISPUTE_TRANSFERRED = "dispute.transferred"  # 调解不成 → 转交: data {to, body}
DISPUTE_FOLLOWED_UP = "dispute.followed_up"  # 回访: data {visited_on, holds, notes}
DISPUTE_ESCALATED = "dispute.escalated"  # 可能激化 not acted on in time: data {due_at}
DISPUTE_PARTIES_VIEWED = "dispute.parties_viewed"  # the parties seen unmasked (invariant 10)
# a photo of the signed agreement (人民调解协议书): data {photo_id, sha256, width, height}
DISPUTE_AGREEMENT_PHOTO_ADDED = "dispute.agreement_photo_added"
