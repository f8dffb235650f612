"""综合评价: the evaluation indicators, computed from the audit trail, and 每月一题."""
