"""What an export holds: its columns with their Chinese headers, how values are written, limits.

Every row carries the grid chain (cell, community, street, district: code and name). Times are
written in the deployment's time zone without an offset, as people read them; CSV starts with
a UTF-8 byte order mark so that Excel reads the Chinese right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..grid.rules import AREA_LEVELS
from ..hotline.rules import caller_view
from ..stats.rules import INDICATORS, SOURCE_NAMES

XLSX_MAX_ROWS = 200_000
FORMATS = ("csv", "xlsx", "geojson")
TABLE_FORMATS = ("csv", "xlsx")
CSV_BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

STATUS_NAMES = {
    "reported": "待立案", "accepted": "已立案", "rejected": "不予立案", "duplicate": "已合并",
    "dispatched": "处置中", "returned": "退单待审", "resolved": "待核查", "closed": "已结案",
    "suspended": "挂账",
}


NATURE_NAMES = {"consultation": "咨询", "help": "求助", "complaint": "投诉", "report": "举报",
                "suggestion": "建议", "praise": "表扬"}


@dataclass(frozen=True)
class Column:
    key: str  # the field of the row (and the GeoJSON property)
    header: str  # the Chinese header of CSV and XLSX
    kind: str = "text"  # text, int, float, time, bool, percent; rank, score ("—" when null)
    width: int = 12  # XLSX column width


CASE_COLUMNS: tuple[Column, ...] = (
    Column("number", "案件编号", "int", 10),
    Column("category_code", "类别编码", width=9),
    Column("category_name", "类别", width=16),
    Column("status_name", "状态", width=9),
    Column("received_at", "上报时间", "time", 19),
    Column("accepted_at", "立案时间", "time", 19),
    Column("dispatched_at", "派遣时间", "time", 19),
    Column("due_at", "当前时限", "time", 19),
    Column("resolved_at", "处置时间", "time", 19),
    Column("closed_at", "结案时间", "time", 19),
    Column("overdue", "是否超期", "bool", 8),
    Column("rework_count", "返工次数", "int", 8),
    Column("department_code", "处置部门编码", width=12),
    Column("department_name", "处置部门", width=24),
    Column("district_code", "区县编码", width=9),
    Column("district_name", "区县", width=10),
    Column("street_code", "街道编码", width=11),
    Column("street_name", "街道", width=12),
    Column("community_code", "社区编码", width=14),
    Column("community_name", "社区", width=14),
    Column("cell_code", "网格编码", width=16),
    Column("cell_name", "网格", width=14),
    Column("lon", "经度", "float", 11),
    Column("lat", "纬度", "float", 11),
    Column("source_name", "来源", width=10),
    Column("nature_name", "诉求性质", width=8),
    # 接诉即办: the 12345 catalogue's class and the address point (门牌) a call was placed at
    Column("request_class_code", "诉求分类编码", width=10),
    Column("request_class_name", "诉求分类", width=16),
    Column("address_point_id", "门牌ID", "int", 9),
    Column("address_point", "门牌地址", width=20),
    Column("address", "地址", width=24),
    Column("description", "问题描述", width=40),
    Column("id", "案件ID", width=36),
)

# an admin's export with_callers=true adds these (invariant 10: never otherwise)
CALLER_COLUMNS: tuple[Column, ...] = (
    Column("caller_name", "来电人姓名", width=12),
    Column("caller_phone", "来电人电话", width=16),
    Column("caller_email", "来电人邮箱", width=24),
    Column("caller_anonymous", "是否匿名", "bool", 8),
)

_GRID_COLUMNS: tuple[Column, ...] = (
    Column("district_code", "区县编码", width=9), Column("district_name", "区县", width=10),
    Column("street_code", "街道编码", width=11), Column("street_name", "街道", width=12),
    Column("community_code", "社区编码", width=14), Column("community_name", "社区", width=14),
    Column("cell_code", "网格编码", width=16), Column("cell_name", "网格", width=14),
)

GROUP_HEADERS = {"district": "区县", "street": "街道", "community": "社区", "cell": "网格",
                 "department": "处置部门", "category": "类别", "kind": "部件事件",
                 "major_class": "大类", "source": "来源", "reporter": "监督员",
                 "handler": "处置人员", "dispatcher": "派遣人员"}


def indicator_columns(group: str) -> tuple[Column, ...]:
    """An area grouping: the area chain down to the group's level (code and name of each);
    another grouping: the group's code and name. Then every indicator, in the table's order."""
    if group in AREA_LEVELS:
        depth = AREA_LEVELS.index(group) + 1
        head = _GRID_COLUMNS[:2 * depth]
    else:
        head = (Column("key", f"{GROUP_HEADERS[group]}编码", width=16),
                Column("name", GROUP_HEADERS[group], width=24))
    body = tuple(Column(i.key, i.title, "percent" if i.numerator else (
        "float" if i.key.startswith("median_") or i.key == "composite_score" else "int"),
        max(8, 2 * len(i.title) + 2)) for i in INDICATORS)
    return head + body


_PATROL_HEAD = {"worker": ("网格员ID", "网格员")}
PATROL_AREA_COLUMNS: tuple[Column, ...] = (
    Column("cells", "网格数", "int", 8),
    Column("cells_walked", "已巡查网格数", "int", 12),
    Column("coverage_pct", "巡查覆盖率", "percent", 10),
    Column("cells_stale", "未巡查网格数", "int", 12),
)
PATROL_COLUMNS: tuple[Column, ...] = (
    Column("visits", "巡查次数", "int", 10),
    Column("patrols", "巡查趟数", "int", 10),
    Column("workers", "巡查人数", "int", 10),
    Column("hours", "巡查时长（小时）", "float", 16),
    Column("km", "巡查里程（公里）", "float", 16),
)


def patrol_columns(group: str) -> tuple[Column, ...]:
    """The patrol table's columns: the group's code and name, then its figures (an area
    grouping: its cells, 巡查覆盖率 and the cells not walked; a worker: the flagged patrols)."""
    code, name = _PATROL_HEAD[group] if group in _PATROL_HEAD else (
        f"{GROUP_HEADERS[group]}编码", GROUP_HEADERS[group])
    head = (Column("key", code, width=16), Column("name", name, width=24))
    if group == "worker":
        return head + (Column("cells_walked", "已巡查网格数", "int", 12), *PATROL_COLUMNS,
                       Column("flagged", "存疑趟数", "int", 10))
    return head + PATROL_AREA_COLUMNS + PATROL_COLUMNS


def patrol_row(row: dict) -> dict:
    """A row of the patrol table as exported: the coverage as a percentage."""
    rate = row.get("coverage_rate")
    return {**row, "coverage_pct": None if rate is None else round(rate * 100, 2)}


def flatten_indicator_row(row: dict, group: str) -> dict:
    """An indicator row of the stats service with its area chain as flat columns; the total
    row says 合计 where the group's name goes."""
    out = dict(row)
    for level, area in (row.get("areas") or {}).items():
        out[f"{level}_code"] = area["code"] if area else None
        out[f"{level}_name"] = area["name"] if area else None
    if group in AREA_LEVELS and row.get("key") is None:
        # a row without a code: the total, or the cases outside the grid
        out[f"{group}_name"] = row["name"]
    return out


def local_time(value: datetime | None, tz: str) -> datetime | None:
    """An instant as the wall-clock time of the deployment (naive, for spreadsheets)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def text_value(column: Column, value, tz: str) -> str:
    """A value as CSV writes it: times local, rates "96.37%" or "—", booleans 是/否."""
    if value is None:
        return "—" if column.kind in DASHED else ""
    if column.kind == "time":
        return local_time(value, tz).strftime(TIME_FORMAT)
    if column.kind == "percent":
        return f"{value:.2f}%"
    if column.kind == "bool":
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


# kinds whose empty value is written "—" (no denominator, no rank, no score)
DASHED = ("percent", "rank", "score")

_RANKING_HEADERS = {"district": ("区县", "District"), "street": ("街道", "Street"),
                    "community": ("社区", "Community"), "department": ("单位", "Unit")}


# the hotline's figures per call-taker (GET /stats/call-takers), the total row last
CALL_TAKER_COLUMNS: tuple[Column, ...] = (
    Column("username", "话务员账号", width=14), Column("display_name", "话务员", width=14),
    Column("calls", "受理数", "int", 8), Column("consultations", "咨询数", "int", 8),
    Column("timed_calls", "计时受理数", "int", 10),
    Column("average_handling_seconds", "平均受理时长（秒）", "score", 16),
    Column("callbacks", "回访次数", "int", 9), Column("callbacks_reached", "回访接通数", "int", 10),
    Column("callback_reach_rate", "回访接通率", "percent", 10),
)


def call_taker_row(row: dict) -> dict:
    """A row of the call-taker table as the export writes it (the total: 合计)."""
    user = row.get("user") or {"username": "合计", "display_name": ""}
    return {**row, "username": user["username"], "display_name": user["display_name"]}


def ranking_columns(group: str) -> tuple[Column, ...]:
    """The 考评 ranking's columns: rank, last month's rank, the movement, the area's or unit's
    code and names (Chinese and English), the score, the three rates, the requests and per
    10,000 residents, then the counts the rates rest on."""
    zh, en = _RANKING_HEADERS[group]
    return (
        Column("rank", "排名", "rank", 6), Column("previous_rank", "上月排名", "rank", 9),
        Column("movement_text", "升降", width=6),
        Column("key", f"{zh}编码", width=12), Column("name", zh, width=16),
        Column("name_en", en, width=24),
        Column("score", "综合得分", "score", 9),
        Column("response_rate", "响应率", "percent", 9),
        Column("resolution_rate", "解决率", "percent", 9),
        Column("satisfaction_rate", "满意率", "percent", 9),
        Column("requests", "诉求数", "int", 8),
        Column("population", "常住人口", "int", 10),
        Column("requests_per_10k", "万人诉求量", "score", 11),
        Column("dispatched_requests", "派单数", "int", 8),
        Column("excluded_requests", "剔除诉求数", "int", 11),
        Column("reduced_requests", "核减数", "int", 8),
        Column("rated", "参评数", "int", 8),
        Column("responded", "响应数", "int", 8), Column("solved", "解决数", "int", 8),
        Column("satisfied", "满意数", "int", 8), Column("callbacks", "回访数", "int", 8),
        Column("score_rates", "得分参评指标数", "int", 14),
        Column("previous_score", "上月得分", "score", 9),
    )


def movement_text(movement: int | None) -> str:
    """↑2 (up two places), ↓1, 0 (the same place), — (not ranked in both months)."""
    if movement is None:
        return "—"
    return f"↑{movement}" if movement > 0 else (f"↓{-movement}" if movement < 0 else "0")


def may_export_callers(principal) -> bool:
    """Callers' personal data leaves in an export only when an admin asks for it."""
    return principal.role == "admin"


def with_caller(row: dict, audited: set) -> dict:
    """A case row of an export with callers: the caller as stored when the export's audit
    event names the case, masked when it does not (a case that arrived after the audit)."""
    if not row.pop("has_caller", False):
        return row
    view = caller_view({"name": row["caller_name"], "phone": row["caller_phone"],
                        "email": row["caller_email"], "anonymous": row["caller_anonymous"]},
                       unmasked=row["id"] in audited)
    row.update(caller_name=view["name"], caller_phone=view["phone"],
               caller_email=view["email"])
    return row


def case_row(row) -> dict:
    """A case row of the export query with the status in words."""
    out = dict(row)
    out["status_name"] = STATUS_NAMES.get(row["status"], row["status"])
    out["source_name"] = SOURCE_NAMES.get(row["source"], row["source"])
    out["nature_name"] = NATURE_NAMES.get(row["nature"]) if row["nature"] else None
    return out
