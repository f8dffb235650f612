"""Which routing rule wins (精准派单): a rule for the category beats one for every category;
among those, the longest area prefix (the most specific area) wins; ties go to the older rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: int
    category_code: str | None
    area_prefix: str
    department_code: str


def applies(rule: Rule, category_code: str, area_code: str | None) -> bool:
    if rule.category_code is not None and rule.category_code != category_code:
        return False
    if rule.area_prefix == "":
        return True
    return area_code is not None and area_code.startswith(rule.area_prefix)


def precedence(rule: Rule) -> tuple:
    """Sort key: smaller is stronger."""
    return (rule.category_code is None, -len(rule.area_prefix), rule.id)


def choose(rules: list[Rule], category_code: str, area_code: str | None) -> Rule | None:
    """The winning rule for a case, or None (then the category's default department)."""
    candidates = [r for r in rules if applies(r, category_code, area_code)]
    return min(candidates, key=precedence) if candidates else None
