"""Cases: the seven-step closed loop (立案 → 派遣 → 处置 → 反馈 → 核查结案 → 评价) on each report.

A case is the report it began as, with one id: `report_id` inside (the column of every table
that points at a case); at the API `case_id` or `report_id` as each endpoint published it, both
described as the same id (gridsnap.schemas.case_id_field)."""
