"""退单审核 and 挂账: the requests a supervisor decides (case_requests) — a department's return
of a case and its review, a suspension asked for, decided, and ended on its review date or
by a supervisor — a sub-process of the case loop (its actions, their writes, their SQL)."""
