"""街乡吹哨、部门报到 and 督办: a joint case (the departments summoned, their report-in and
feedback) and the supervision notices to a case's departments — a sub-process of the case loop
(its actions, their writes, their SQL)."""
