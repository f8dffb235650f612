"""Every visible text exists in Chinese and in English (no browser needed)."""

from __future__ import annotations

import json
import re

from conftest import REPO

I18N = REPO / "pwa" / "src" / "i18n"
SRC = REPO / "pwa" / "src"


def _messages(lang: str) -> dict:
    return json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))


def test_chinese_and_english_messages_have_the_same_keys():
    zh, en = _messages("zh-CN"), _messages("en")
    assert sorted(zh) == sorted(en)
    assert all(v.strip() for v in zh.values()) and all(v.strip() for v in en.values())


def test_placeholders_match_between_languages():
    zh, en = _messages("zh-CN"), _messages("en")
    for key in zh:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_every_key_the_code_uses_is_translated():
    zh = _messages("zh-CN")
    used: set[str] = set()
    dynamic: set[str] = set()
    for path in SRC.rglob("*.js*"):
        code = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_.]+)'", code))
        dynamic |= set(re.findall(r"\bt\(`([a-z_]+\.[a-z_]*)\$\{", code))
        # keys handed to t() through a table, e.g. ['capture', 'nav.capture', …]
        used |= set(re.findall(r"'(nav\.[a-z_]+)'", code))
    assert used, "no t('…') calls found"
    assert sorted(used - set(zh)) == []
    for prefix in dynamic:
        assert any(k.startswith(prefix) for k in zh), prefix
    for family, members in {"status.": ["reported", "accepted", "rejected", "duplicate",
                                        "dispatched", "returned", "resolved", "closed"],
                            "role.": ["worker", "supervisor", "handler", "admin"],
                            "location.error_": ["denied", "timeout", "unavailable", "unsupported"],
                            "category.kind_": ["event", "component"],
                            "tasks.": ["verify_pass", "verify_fail"]}.items():
        for m in members:
            assert family + m in zh, family + m
