"""Reports from the field (信息采集): intake, grid mapping, photos; each report is a case."""
