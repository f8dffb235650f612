"""Use cases of exports: cases (CSV, XLSX, GeoJSON), indicator tables and the monthly 考评
ranking (CSV, XLSX).

An export is an iterator of byte chunks with its file name and media type, so the web layer
streams it: the case CSV is written by PostgreSQL (COPY ... TO STDOUT, values formatted in SQL
as the Python writer would write them) and sent in chunks as it comes, an export with callers
and GeoJSON are written row by row from a server-side cursor; XLSX is written
row by row (XlsxWriter's constant-memory mode) to a temporary file first, then sent, and is
refused beyond XLSX_MAX_ROWS rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from .. import clock
from ..errors import AppError
from ..patrols import service as patrols_service
from ..settings import Settings
from ..stats import rules as stats_rules
from ..stats import service as stats_service
from ..stats.rules import midnight
from ..users.rules import Principal
from . import queries, rules

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "geojson": "application/geo+json"}


@dataclass
class Export:
    filename: str
    media_type: str
    chunks: Iterator[bytes]


def _case_filters(settings: Settings, query: dict) -> dict:
    tz = settings.timezone
    first: date | None = query.get("from_")
    last: date | None = query.get("to")
    if first and last and last < first:
        raise AppError("request.invalid", "to must not be before from.",
                       {"to": ["Before from."]})
    return {"statuses": query.get("status"), "category": query.get("category"),
            "department": query.get("department"), "area": query.get("area"),
            "overdue": query.get("overdue"), "source": query.get("source"),
            "received_from": midnight(first, tz) if first else None,
            "received_to": midnight(last + timedelta(days=1), tz) if last else None}


def export_cases(session: Session, sessions: Callable[[], Session], principal: Principal,
                 settings: Settings, fmt: str, query: dict) -> Export:
    """The cases the caller may see under the case list's filters (status, category,
    department, area, source, from/to days of receipt, overdue), oldest first.

    With `with_callers` (admins only) the callers' name, phone, e-mail and anonymity are added
    as they are stored, and the export is on the audit trail first: one `caller.viewed` event
    (data: via export, the format, the file name) on the trail of every exported case that
    has a caller, committed (by the API's edge, when the view answers) before a byte is sent
    (invariant 10) — so each case's trail says who took its caller away, as it does for a view
    on the screen. A case that arrives between that commit and its row being read is exported
    with its caller masked.

    An XLSX is written with `session` before this returns; CSV and GeoJSON are read as they
    are sent, through a session of their own from `sessions`, closed when the last row is out
    or the client goes away (the request's session ends when the view returns, before a
    streamed body is read).

    Raises AppError export.callers_forbidden (with_callers by anyone but an admin),
    export.too_many_rows for an XLSX beyond XLSX_MAX_ROWS (CSV and GeoJSON stream any size),
    request.invalid for to before from.
    """
    with_callers = bool(query.get("with_callers"))
    if with_callers and not rules.may_export_callers(principal):
        raise AppError("export.callers_forbidden",
                       "Only admins export callers' personal data.",
                       {"with_callers": ["Admins only."]})
    filters = _case_filters(settings, query)
    tz = settings.timezone
    stamp = clock.now().astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
    name = f"cases-{stamp}.{fmt}"
    if fmt == "xlsx":
        n = queries.count_cases(session, principal, **filters)
        if n > rules.XLSX_MAX_ROWS:
            raise AppError(
                "export.too_many_rows",
                f"{n:,} cases match; an XLSX holds at most {rules.XLSX_MAX_ROWS:,}. Narrow the "
                "filters (from/to, area, status) or export CSV, which has no limit.",
                {"_schema": [f"{n} rows > {rules.XLSX_MAX_ROWS}"]})
    columns = rules.CASE_COLUMNS
    audited: set | None = None
    if with_callers:
        columns = rules.CASE_COLUMNS + rules.CALLER_COLUMNS
        audited = queries.audit_caller_export(
            session, principal, data={"fields": ["name", "phone", "email"], "via": "export",
                                      "format": fmt, "file": name}, **filters)
    if fmt == "xlsx":
        rows = (_row(r, audited) for r in queries.stream_cases(
            session, principal, with_callers=with_callers, **filters))
        chunks = _xlsx_chunks(columns, rows, tz, "案件", _info(principal, tz, [
            ("筛选条件", _describe(query))]))
    elif fmt == "csv" and not with_callers:
        chunks = _csv_copied(columns, sessions, principal, filters, tz)
    elif fmt == "csv":
        chunks = _csv_chunks(columns, _streamed(sessions, principal, filters, audited), tz)
    else:
        chunks = _geojson_chunks(_streamed(sessions, principal, filters, audited), tz, columns)
    return Export(name, MEDIA_TYPES[fmt], chunks)


def _row(row, audited: set | None) -> dict:
    out = rules.case_row(row)
    return out if audited is None else rules.with_caller(out, audited)


def _streamed(sessions: Callable[[], Session], principal: Principal,
              filters: dict, audited: set | None) -> Iterator[dict]:
    """The matching case rows from a session opened on the first row and closed after the
    last (or when the reader stops); with their callers when `audited` (the audited ids)."""
    with sessions() as session:
        for row in queries.stream_cases(session, principal, with_callers=audited is not None,
                                        **filters):
            yield _row(row, audited)


def _csv_copied(columns, sessions: Callable[[], Session], principal: Principal,
                filters: dict, tz: str, size: int = 64 * 1024) -> Iterator[bytes]:
    """The case CSV written by PostgreSQL (COPY), the same bytes as _csv_chunks writes for the
    same rows (the header from _csv_chunks), sent in chunks of about `size` bytes, from a
    session opened on the first chunk and closed after the last (or when the reader stops)."""
    yield from _csv_chunks(columns, (), tz)
    names = {"status": rules.STATUS_NAMES, "source": stats_rules.SOURCE_NAMES,
             "nature": rules.NATURE_NAMES}
    with sessions() as session:
        part: list[bytes] = []
        held = 0
        for row in queries.copy_cases_csv(session, principal, [(c.key, c.kind) for c in columns],
                                          tz=tz, names=names, **filters):
            part.append(row)
            held += len(row)
            if held >= size:
                yield b"".join(part)
                part, held = [], 0
        if part:
            yield b"".join(part)


def export_indicators(session: Session, principal: Principal, settings: Settings, fmt: str,
                      query: dict) -> Export:
    """The indicator table of GET /stats/indicators, with a total row (合计) at the end."""
    table = stats_service.indicator_table(
        session, principal, settings, group=query["group"], period=query.get("period"),
        first=query.get("from_"), last=query.get("to"), area=query.get("area"),
        source=query.get("source"))
    columns = rules.indicator_columns(table["group"])
    rows = [rules.flatten_indicator_row(r, table["group"])
            for r in [*table["rows"], table["total"]]]
    tz = settings.timezone
    label = table["period"]["label"].replace("/", "_")
    name = f"indicators-{label}-{table['group']}.{fmt}"
    if fmt == "csv":
        chunks = _csv_chunks(columns, rows, tz)
    else:
        cutoff = rules.local_time(table["period"]["cutoff"], tz)
        chunks = _xlsx_chunks(columns, rows, tz, "综合评价", _info(principal, tz, [
            ("统计周期", f"{table['period']['from']} 至 {table['period']['to']}"),
            ("截止时间", cutoff.strftime(rules.TIME_FORMAT)),
            ("分组", rules.GROUP_HEADERS[table["group"]]),
            ("区域", table["area"] or "全部"),
            ("来源", rules.SOURCE_NAMES.get(table["source"], "全部")),
            ("口径", "各指标定义见 docs/indicators.md；比率保留两位小数，分母为 0 记为 —"),
            # every column's English name (and a rate's numerator ÷ denominator)
            *((i.title, i.title_en + (f" = {stats_rules.BY_KEY[i.numerator].title_en} ÷ "
                                      f"{stats_rules.BY_KEY[i.denominator].title_en}"
                                      if i.numerator else ""))
              for i in stats_rules.INDICATORS),
        ]))
    return Export(name, MEDIA_TYPES[fmt], chunks)


def export_patrols(session: Session, principal: Principal, settings: Settings, fmt: str,
                   query: dict) -> Export:
    """The patrol table of GET /patrols/table (巡查指标, same parameters) with its total row."""
    table = patrols_service.patrol_table(
        session, principal, settings, group=query["group"], period=query.get("period"),
        first=query.get("from_"), last=query.get("to"), area=query.get("area"),
        stale_days=query["stale_days"])
    columns = rules.patrol_columns(table["group"])
    rows = [rules.patrol_row(r) for r in [*table["rows"], table["total"]]]
    tz = settings.timezone
    label = table["period"]["label"].replace("/", "_")
    name = f"patrols-{label}-{table['group']}.{fmt}"
    if fmt == "csv":
        return Export(name, MEDIA_TYPES[fmt], _csv_chunks(columns, rows, tz))
    cutoff = rules.local_time(table["period"]["cutoff"], tz)
    chunks = _xlsx_chunks(columns, rows, tz, "巡查指标", _info(principal, tz, [
        ("统计周期", f"{table['period']['from']} 至 {table['period']['to']}"),
        ("截止时间", cutoff.strftime(rules.TIME_FORMAT)),
        ("分组", rules.GROUP_HEADERS.get(table["group"], "网格员")),
        ("区域", table["area"] or "本人辖区"),
        ("未巡查", f"截止时间前 {table['stale_days']} 天内未被巡查的网格"),
        ("口径", "巡查覆盖率 = 已巡查网格数 ÷ 网格数；存疑（超速、远离责任网格）的巡查不计入覆盖；"
                 "各指标定义见 docs/indicators.md"),
    ]))
    return Export(name, MEDIA_TYPES[fmt], chunks)


def export_call_takers(session: Session, principal: Principal, settings: Settings, fmt: str,
                       query: dict) -> Export:
    """The hotline's figures per call-taker of GET /stats/call-takers (same parameters), the
    total row last."""
    table = stats_service.call_taker_table(session, principal, settings,
                                           period=query.get("period"),
                                           first=query.get("from_"), last=query.get("to"),
                                           area=query.get("area"))
    columns = rules.CALL_TAKER_COLUMNS
    rows = [rules.call_taker_row(r) for r in [*table["rows"], table["total"]]]
    tz = settings.timezone
    label = table["period"]["label"].replace("/", "_")
    name = f"call-takers-{label}.{fmt}"
    if fmt == "csv":
        return Export(name, MEDIA_TYPES[fmt], _csv_chunks(columns, rows, tz))
    cutoff = rules.local_time(table["period"]["cutoff"], tz)
    chunks = _xlsx_chunks(columns, rows, tz, "话务员", _info(principal, tz, [
        ("统计周期", f"{table['period']['from']} 至 {table['period']['to']}"),
        ("截止时间", cutoff.strftime(rules.TIME_FORMAT)),
        ("区域", table["area"] or "本人辖区"),
        ("口径", "受理数：本期受理的热线来电（含咨询）；平均受理时长：来电开始至诉求录入的平均秒数，"
                 f"仅计 {table['handling_max_seconds'] // 3600} 小时内录入的来电；回访次数：本期"
                 "记录的每次回访（含未接通），回访接通率 = 接通数 ÷ 回访次数；定义见 docs/indicators.md"),
    ]))
    return Export(name, MEDIA_TYPES[fmt], chunks)


def export_ranking(session: Session, principal: Principal, settings: Settings, fmt: str,
                   query: dict) -> Export:
    """The monthly 考评 ranking of GET /stats/ranking (same parameters), ranked rows first."""
    table = stats_service.ranking(session, principal, settings, group=query["group"],
                                  period=query.get("period"), area=query.get("area"))
    columns = rules.ranking_columns(table["group"])
    rows = [{**r, "movement_text": rules.movement_text(r["movement"])} for r in table["rows"]]
    tz = settings.timezone
    name = f"ranking-{table['period']['label']}-{table['group']}.{fmt}"
    if fmt == "csv":
        chunks = _csv_chunks(columns, rows, tz)
    else:
        titles = {k: stats_rules.BY_KEY[k].title for k in stats_rules.RANKING_RATES}
        formula = " + ".join(f"{titles[w['rate']]} × {w['weight']:g}" for w in table["weights"])
        total = sum(w["weight"] for w in table["weights"])
        chunks = _xlsx_chunks(columns, rows, tz, "考评排名", _info(principal, tz, [
            ("统计周期", f"{table['period']['label']}（对比 {table['previous_period']}）"),
            ("截止时间", rules.local_time(table["period"]["cutoff"], tz).strftime(
                rules.TIME_FORMAT)),
            ("排名对象", rules.GROUP_HEADERS.get(table["group"], table["group"])),
            ("区域", table["area"] or "全部"),
            ("综合得分", f"({formula}) ÷ {total:g}；无值的比率按 GRIDSNAP_INDICATOR_MISSING="
                         f"{table['missing']} 处理；三率为剔除、核减后的热线诉求"),
            ("万人诉求量", "诉求数 × 10000 ÷ 常住人口（area_populations）"),
            ("排名", "得分从高到低，同分同名次（1, 2, 2, 4）；无得分不排名（—）"),
            ("升降", "与上月名次相比：↑ 上升，↓ 下降，0 持平，— 上月或本月无名次"),
        ]))
    return Export(name, MEDIA_TYPES[fmt], chunks)


def _describe(query: dict) -> str:
    parts = [f"{k.rstrip('_')}={v}" for k, v in sorted(query.items())
             if v not in (None, []) and not (k == "with_callers" and not v)]
    return "; ".join(parts) or "全部"


def _info(principal: Principal, tz: str, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    now = clock.now().astimezone(ZoneInfo(tz)).strftime(rules.TIME_FORMAT)
    return [*extra, ("导出人", f"{principal.display_name}（{principal.username}）"),
            ("导出时间", f"{now}（{tz}）"), ("时间", f"所有时间均为 {tz} 当地时间")]


# --- writers ---------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(column: rules.Column, value, tz: str) -> str:
    out = rules.text_value(column, value, tz)
    # a cell starting like a formula would run as one when opened in a spreadsheet
    if column.kind == "text" and out.startswith(_FORMULA_START):
        out = "'" + out
    return out


def _csv_chunks(columns, rows: Iterable[dict], tz: str, every: int = 500) -> Iterator[bytes]:
    """UTF-8 with a byte order mark (Excel reads Chinese right), a header row, then the rows,
    a chunk every `every` rows."""
    buf = io.StringIO()
    out = csv.writer(buf)
    buf.write(rules.CSV_BOM)
    out.writerow([c.header for c in columns])
    for i, row in enumerate(rows, 1):
        out.writerow([_csv_text(c, row.get(c.key), tz) for c in columns])
        if i % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def _xlsx_chunks(columns, rows: Iterable[dict], tz: str, sheet: str,
                 info: list[tuple[str, str]]) -> Iterator[bytes]:
    """An XLSX (header row in Chinese, times as spreadsheet dates in local time, rates as
    percentages) written to a temporary file, then read out in chunks and removed."""
    import xlsxwriter

    fd, path = tempfile.mkstemp(prefix="gridsnap-export-", suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_formulas": False,
                                          "strings_to_urls": False})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        pct = book.add_format({"num_format": "0.00%"})
        dec = book.add_format({"num_format": "0.00"})
        ws = book.add_worksheet(sheet)
        for j, c in enumerate(columns):
            ws.set_column(j, j, c.width)
            ws.write_string(0, j, c.header, head)
        ws.freeze_panes(1, 0)
        for i, row in enumerate(rows, 1):
            for j, c in enumerate(columns):
                _xlsx_cell(ws, i, j, c, row.get(c.key), tz, when, pct, dec)
        notes = book.add_worksheet("说明")
        notes.set_column(0, 0, 12)
        notes.set_column(1, 1, 80)
        for i, (k, v) in enumerate(info):
            notes.write_string(i, 0, k, head)
            notes.write_string(i, 1, v)
        book.close()
        f = open(path, "rb")  # noqa: SIM115 (closed by the reader below)
    finally:
        os.unlink(path)  # the open file stays readable; nothing is left behind
    return _read(f)


def _read(f, size: int = 64 * 1024) -> Iterator[bytes]:
    with f:
        while chunk := f.read(size):
            yield chunk


def _xlsx_cell(ws, i, j, c: rules.Column, value, tz, when, pct, dec) -> None:
    if value is None:
        if c.kind in rules.DASHED:
            ws.write_string(i, j, "—")
        return
    if c.kind == "time":
        ws.write_datetime(i, j, rules.local_time(value, tz), when)
    elif c.kind == "percent":
        ws.write_number(i, j, float(value) / 100, pct)
    elif c.kind == "float":
        ws.write_number(i, j, float(value), dec if c.key.startswith("median_") else None)
    elif c.kind == "score":
        ws.write_number(i, j, float(value), dec)
    elif c.kind in ("int", "rank"):
        ws.write_number(i, j, int(value))
    elif c.kind == "bool":
        ws.write_string(i, j, "是" if value else "否")
    else:
        ws.write_string(i, j, str(value))


def _geojson_chunks(rows: Iterable[dict], tz: str, columns=rules.CASE_COLUMNS,
                    every: int = 500) -> Iterator[bytes]:
    """A FeatureCollection of points (lon, lat in EPSG:4326); times ISO 8601 with the local
    offset; properties named as in the API."""
    zone = ZoneInfo(tz)
    yield b'{"type": "FeatureCollection", "features": ['
    parts: list[str] = []
    first = True
    for i, row in enumerate(rows, 1):
        props = {}
        for c in columns:
            if c.key in ("lon", "lat"):
                continue
            v = row.get(c.key)
            if c.kind == "time" and v is not None:
                v = v.astimezone(zone).isoformat()
            props[c.key] = str(v) if c.key == "id" else v
        props["status"] = row["status"]
        feature = {"type": "Feature", "id": str(row["id"]),
                   "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                   "properties": props}
        parts.append(("" if first else ",") + json.dumps(feature, ensure_ascii=False))
        first = False
        if i % every == 0:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("]}")
    yield "".join(parts).encode("utf-8")
