"""先行联系: the responsible unit contacts the caller of a dispatched hotline case, and records
each try (time, outcome) — a sub-process of the case loop (its rules, its action); 响应率 is
computed from these records and the callback (docs/indicators.md)."""
