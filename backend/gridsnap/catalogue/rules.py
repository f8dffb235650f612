"""Pure decisions of the 12345 catalogue: the form of a class code, a class's level and
ancestors, what a call-taker's typed text is matched against, and the columns of the files."""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin

# a class code: 2 characters per level ("01", "0103", "010302"); letters allowed for a city
# that codes its classes so
CODE_PATTERN = "^[0-9A-Z]{2}([0-9A-Z]{2}){0,2}$"
CODE_RE = re.compile(CODE_PATTERN)
AREA_PREFIX_RE = re.compile(r"^[0-9]{0,15}$")

SEARCH_LIMIT = 20

# the columns of the request catalogue file (诉求分类): the English name or the Chinese header
CLASS_COLUMNS = {
    "code": ("编码", "分类编码"),
    "name": ("名称", "分类名称"),
    "name_en": ("英文名称",),
    "category": ("数字城管分类", "城管分类"),
    "department": ("责任单位类型", "承办单位类型", "unit_type"),
    "keywords": ("关键词",),
    "active": ("启用",),
}
CLASS_REQUIRED = ("code", "name")

# the columns of the dispatch catalogue file (派单目录)
DISPATCH_COLUMNS = {
    "class": ("class_code", "诉求分类", "分类编码"),
    "area": ("area_prefix", "区域", "区域编码"),
    "department": ("承办单位", "责任单位"),
    "note": ("备注",),
}
DISPATCH_REQUIRED = ("class", "area", "department")

FALSE_WORDS = {"0", "false", "no", "n", "否", "停用"}
TRUE_WORDS = {"", "1", "true", "yes", "y", "是", "启用"}


def level_of(code: str) -> int:
    """01 → 1, 0103 → 2, 010302 → 3."""
    return len(code) // 2


def parent_of(code: str) -> str | None:
    return code[:-2] or None


def chain_of(code: str) -> list[str]:
    """The class and its ancestors, the class first: 010302 → [010302, 0103, 01]."""
    return [code[:n] for n in range(len(code), 0, -2)]


def normalise_query(q: str) -> str:
    """What a typed search is compared as: lower case, no spaces, no apostrophes of pinyin."""
    return re.sub(r"[\s'’]+", "", q).lower()


def pinyin_of(name: str) -> tuple[str, str]:
    """(the full pinyin without tones or spaces, the initials) of a class name: 垃圾清运 →
    ("lajiqingyun", "ljqy"). Letters and digits in the name are kept, lower case."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors=_keep) if s.strip()]
    full = "".join(re.sub(r"[^0-9a-z]", "", s) for s in syllables)
    initials = "".join(s[0] for s in syllables if re.match(r"[a-z]", s))
    return full, initials


def _keep(chars: str) -> list[str]:
    # what is not Chinese stays as it is, one piece per run of letters or digits
    return re.findall(r"[0-9A-Za-z]+", chars)


def parse_active(value: str) -> bool | None:
    """启用: empty or yes → True, no → False; None for anything else."""
    v = value.strip().lower()
    if v in TRUE_WORDS:
        return True
    if v in FALSE_WORDS:
        return False
    return None
