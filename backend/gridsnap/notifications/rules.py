"""The kinds of notification: what a person is asked to act on or told about, defined once
(the apps show a text per kind)."""

from __future__ import annotations

from dataclasses import dataclass, field

CASE_REPORTED = "case.reported"  # supervisors: a new case to accept (立案)
CASE_TO_DISPATCH = "case.to_dispatch"  # supervisors: accepted on its own, to dispatch
CASE_ACCEPTED = "case.accepted"
CASE_REJECTED = "case.rejected"
CASE_MERGED = "case.merged"
CASE_DISPATCHED = "case.dispatched"  # handlers of the department
CASE_RETURNED = "case.returned"  # supervisors: a department handed it back (退单)
CASE_RETURN_REVIEW = "case.return_review"  # supervisors: a return (退单) awaits your review
CASE_RETURN_REFUSED = "case.return_refused"  # handlers: the return was refused, it is yours
CASE_SUSPENSION_REQUESTED = "case.suspension_requested"  # supervisors: 挂账 asked for
CASE_SUSPENSION_APPROVED = "case.suspension_approved"  # the handler who asked
CASE_SUSPENSION_REFUSED = "case.suspension_refused"  # the handler who asked
CASE_RESUMED = "case.resumed"  # handlers: a 挂账 case is back (review date or supervisor)
CASE_EXTENSION_REQUESTED = "case.extension_requested"
CASE_EXTENSION_APPROVED = "case.extension_approved"
CASE_EXTENSION_REFUSED = "case.extension_refused"
CASE_VERIFICATION_REQUESTED = "case.verification_requested"  # the worker who verifies (核查)
CASE_REWORK = "case.rework"
CASE_CLOSED = "case.closed"
CASE_OVERDUE = "case.overdue"  # escalation (街乡吹哨)
CASE_WHISTLED = "case.whistled"  # handlers of the summoned departments: report in (报到)
CASE_JOINT_FEEDBACK = "case.joint_feedback"  # the lead's handlers: a co-department fed back
CASE_NOTICE_ISSUED = "case.notice_issued"  # handlers of the department: a 督办 to answer
CASE_NOTICE_REPLIED = "case.notice_replied"  # the supervisor who issued it: the reply
CASE_CALLBACK_DUE = "case.callback_due"  # call-takers: a hotline case closed, call back (回访)
CASE_EXCLUSION_REQUESTED = "case.exclusion_requested"  # supervisors: 剔除 or 申诉 to decide
CASE_EXCLUSION_DECIDED = "case.exclusion_decided"  # the handler who asked: the decision
# 矛盾纠纷 (no report: data {dispute_id, kind, risk}, never the parties)
DISPUTE_REPORTED = "dispute.reported"  # mediators of the community: a dispute to take on (受理)
DISPUTE_VOLATILE = "dispute.volatile"  # the street's 综治 office at once: risk 可能激化
DISPUTE_ESCALATED = "dispute.escalated"  # 综治 offices up to the district: 可能激化 not acted on
# 主动治理 (no report: data {month, category, category_name, category_name_en, area_code,
# area_name, area_name_en, count, previous_average}): the supervisors of the hot spot's area
HOT_SPOT_PROPOSED = "hot_spot.proposed"


@dataclass(frozen=True)
class Notice:
    """One kind of news about one case for some people."""

    kind: str
    user_ids: tuple[int, ...]
    report_id: object = None
    data: dict = field(default_factory=dict)
