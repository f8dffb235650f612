"""Use cases of the 12345 catalogue: import the request classes and the dispatch catalogue
(CSV or XLSX, every row checked first: a file with any problem imports nothing), search them
as the call-taker types, and say which class a call is and which unit takes it in an area."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import AppError
from ..grid.queries import address_count
from ..grid.service import import_addresses
from ..tables import ImportRejected, RowError, read_rows
from ..users import permissions
from ..users.rules import Principal
from . import queries, rules


@dataclass(frozen=True)
class Dispatch:
    """Where the dispatch catalogue sends a class in an area: a department (the type of unit;
    the case's area picks the unit), the entry that decided (None: the class's own unit type),
    and the category a case of the class is filed under."""

    department_code: str | None
    entry_id: int | None
    category_code: str | None


def rejected(exc: ImportRejected) -> AppError:
    """An import refused, as the API answers it: every problem with its line, field, code."""
    first = exc.errors[0]
    return AppError("import.invalid",
                    f"{len(exc.errors)} problem(s) in the file, the first on line {first.line} "
                    f"({first.field}: {first.message}); nothing was imported.",
                    rows=[e.to_dict() for e in exc.errors])


def import_classes(session: Session, data: bytes, *, replace: bool = False) -> dict:
    """Import the request catalogue (诉求分类). Columns: code, name, name_en, category,
    department, keywords, active (README). A class's parent is its code less two characters,
    in the file or imported before; a class with none below it (a leaf) must have a category
    of its own or an ancestor's. With `replace`, classes the file leaves out are no longer offered.

    Returns {"classes": n, "deactivated": m}. Raises ImportRejected with every problem; nothing
    is written then."""
    rows = read_rows(data, rules.CLASS_COLUMNS, required=rules.CLASS_REQUIRED)
    known = queries.existing_codes(session)
    errors: list[RowError] = []
    out: dict[str, dict] = {}
    lines: dict[str, int] = {}
    for line, r in rows:
        code = r["code"].upper()
        bad = len(errors)
        if not rules.CODE_RE.match(code):
            errors.append(RowError(line, "code", "catalogue.bad_code",
                                   "2, 4 or 6 letters or digits, two per level (01, 0103, "
                                   "010302)."))
        elif code in out:
            errors.append(RowError(line, "code", "import.duplicate_row",
                                   f"Class {code} is on line {lines[code]} already."))
        if not r["name"]:
            errors.append(RowError(line, "name", "import.required", "A name is required."))
        elif len(r["name"]) > 100:
            errors.append(RowError(line, "name", "import.too_long", "At most 100 characters."))
        category = r.get("category", "").upper() or None
        if category and category not in known["categories"]:
            errors.append(RowError(line, "category", "catalogue.unknown_category",
                                   f"No 数字城管 category {category}."))
        department = r.get("department", "") or None
        if department and department not in known["departments"]:
            errors.append(RowError(line, "department", "catalogue.unknown_department",
                                   f"No department {department}."))
        active = rules.parse_active(r.get("active", ""))
        if active is None:
            errors.append(RowError(line, "active", "import.bad_boolean",
                                   "Yes or no (是/否, 1/0, true/false)."))
        if len(errors) > bad:
            continue
        full, initials = rules.pinyin_of(r["name"])
        out[code] = {"code": code, "parent_code": rules.parent_of(code),
                     "level": rules.level_of(code), "name": r["name"],
                     "name_en": r.get("name_en") or None, "pinyin": full, "initials": initials,
                     "keywords": r.get("keywords", ""), "category_code": category,
                     "department_code": department, "active": active}
        lines[code] = line
    parents = {rules.parent_of(c) for c in (*out, *known["classes"])}
    for code, row in out.items():
        parent = row["parent_code"]
        if parent and parent not in out and parent not in known["classes"]:
            errors.append(RowError(lines[code], "code", "catalogue.unknown_parent",
                                   f"Its parent class {parent} is neither in the file nor "
                                   "imported."))
        elif code not in parents and not any((c in out and out[c]["category_code"])
                     or (c not in out and c in known["classes_with_category"])
                     for c in rules.chain_of(code)):
            errors.append(RowError(lines[code], "category", "catalogue.category_required",
                                   "Neither this class (a leaf) nor an ancestor names the "
                                   "数字城管 category its cases are filed under."))
    if errors:
        raise ImportRejected(errors)
    ordered = [out[c] for c in sorted(out, key=lambda c: (len(c), c))]
    queries.upsert_classes(session, ordered)
    gone = queries.deactivate_classes_except(session, list(out)) if replace else 0
    return {"classes": len(ordered), "deactivated": gone}


def import_dispatch(session: Session, data: bytes, *, replace: bool = False) -> dict:
    """Import the dispatch catalogue (派单目录): class, area (a code prefix of the grid; empty
    for the whole city), department (the unit type that takes it there), note. With `replace`
    the file is the whole catalogue (entries it leaves out are removed).

    Returns {"entries": n}. Raises ImportRejected with every problem; nothing is written then."""
    rows = read_rows(data, rules.DISPATCH_COLUMNS, required=rules.DISPATCH_REQUIRED)
    known = queries.existing_codes(session)
    errors: list[RowError] = []
    out: dict[tuple[str, str], dict] = {}
    lines: dict[tuple[str, str], int] = {}
    for line, r in rows:
        bad = len(errors)
        cls = r["class"].upper()
        area = r["area"].strip()
        if area in ("*", "全市"):
            area = ""
        if not cls:
            errors.append(RowError(line, "class", "import.required", "A class code is required."))
        elif cls not in known["classes"]:
            errors.append(RowError(line, "class", "catalogue.unknown_class",
                                   f"No request class {cls} (import the catalogue first)."))
        if not rules.AREA_PREFIX_RE.match(area):
            errors.append(RowError(line, "area", "catalogue.bad_area",
                                   "An area code of the grid (digits), or empty for the city."))
        elif area and area not in known["areas"]:
            errors.append(RowError(line, "area", "catalogue.unknown_area",
                                   f"No area {area} in the grid."))
        if not r["department"]:
            errors.append(RowError(line, "department", "import.required",
                                   "A department is required."))
        elif r["department"] not in known["departments"]:
            errors.append(RowError(line, "department", "catalogue.unknown_department",
                                   f"No department {r['department']}."))
        if len(r.get("note", "")) > 500:
            errors.append(RowError(line, "note", "import.too_long", "At most 500 characters."))
        key = (cls, area)
        if len(errors) == bad and key in out:
            errors.append(RowError(line, "area", "import.duplicate_row",
                                   f"Class {cls} in area {area or '(city)'} is on line "
                                   f"{lines[key]} already."))
        if len(errors) > bad:
            continue
        out[key] = {"class_code": cls, "area_prefix": area,
                    "department_code": r["department"], "note": r.get("note") or None}
        lines[key] = line
    if errors:
        raise ImportRejected(errors)
    queries.upsert_entries(session, list(out.values()), replace=replace)
    return {"entries": len(out)}


def dispatch_of(session: Session, class_code: str, area_code: str | None) -> Dispatch | None:
    """Which unit type the dispatch catalogue sends a class to in an area; None for a class
    that does not exist."""
    row = queries.find_class(session, class_code, area_code)
    if row is None:
        return None
    return Dispatch(row["department_code"], row["dispatch_entry_id"], row["category_code"])


def class_for_call(session: Session, code: str) -> dict:
    """The active class a call-taker chose, with the category its case is filed under.
    Raises AppError request.invalid (field request_class) for an unknown or retired class."""
    row = queries.find_class(session, code.upper())
    if row is None or not row["active"]:
        raise AppError("request.invalid", f"There is no request class {code!r}.",
                       {"request_class": ["Unknown or retired request class."]})
    return dict(row)


def search(session: Session, principal: Principal, q: str, *, area_code: str | None = None,
           limit: int = rules.SEARCH_LIMIT) -> list[dict]:
    """The classes matching what the call-taker typed (Chinese, pinyin or its initials,
    English, a keyword or the code), each with its path and the unit it is dispatched to in
    `area_code` (the place of the call, when known)."""
    permissions.require(principal, permissions.SEARCH_CATALOGUE)
    q = q.strip()
    if not q:
        return []
    out = []
    for r in queries.search(session, q, rules.normalise_query(q), area_code, limit):
        path = [{"name": n, "name_en": e} for n, e in (
            (r["grandparent_name"], r["grandparent_name_en"]),
            (r["parent_name"], r["parent_name_en"])) if n]
        out.append({
            "code": r["code"], "level": r["level"], "name": r["name"], "name_en": r["name_en"],
            "path": path, "leaf": r["leaf"], "category": r["category_code"],
            "department": None if r["department_code"] is None else {
                "code": r["department_code"], "name": r["department_name"],
                "name_en": r["department_name_en"]},
            "from_dispatch_catalogue": r["from_dispatch_catalogue"]})
    return out


def summary(session: Session, principal: Principal) -> dict:
    """How much of each catalogue is loaded."""
    permissions.require(principal, permissions.SEARCH_CATALOGUE)
    return {**queries.counts(session), "address_points": address_count(session)}


IMPORTERS = {"classes": import_classes, "dispatch": import_dispatch,
             "addresses": import_addresses}


def import_file(session: Session, principal: Principal, kind: str, data: bytes, *,
                replace: bool) -> dict:
    """An admin's import of one of the files (IMPORTERS); a file with problems is answered
    import.invalid with every problem, and nothing of it is written."""
    permissions.require(principal, permissions.IMPORT_CATALOGUE)
    try:
        return IMPORTERS[kind](session, data, replace=replace)
    except ImportRejected as exc:
        raise rejected(exc) from None


def list_classes(session: Session, principal: Principal) -> list[dict]:
    """The whole request catalogue, retired classes too, parents before children."""
    permissions.require(principal, permissions.SEARCH_CATALOGUE)
    return [dict(r) for r in queries.all_classes(session)]


def list_entries(session: Session, principal: Principal) -> list[dict]:
    """The whole dispatch catalogue, by class and area."""
    permissions.require(principal, permissions.SEARCH_CATALOGUE)
    return [dict(r) for r in queries.all_entries(session)]


def export_csv(session: Session, kind: str) -> tuple[str, int]:
    """The request catalogue ("classes") or the dispatch catalogue ("dispatch") as a CSV file
    in the import's own columns (exported, edited, imported again), and its number of rows."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if kind == "classes":
        rows = queries.all_classes(session)
        w.writerow(["code", "name", "name_en", "category", "department", "keywords", "active"])
        for r in rows:
            w.writerow([r["code"], r["name"], r["name_en"] or "", r["category_code"] or "",
                        r["department_code"] or "", r["keywords"],
                        "yes" if r["active"] else "no"])
    else:
        rows = queries.all_entries(session)
        w.writerow(["class", "area", "department", "note"])
        for r in rows:
            w.writerow([r["class_code"], r["area_prefix"], r["department_code"],
                        r["note"] or ""])
    return out.getvalue(), len(rows)
