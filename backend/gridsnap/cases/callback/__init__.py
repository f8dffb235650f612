"""回访: the callback of a hotline case — a sub-process of the case loop (its rules, its action)."""
