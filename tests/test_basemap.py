"""The base map the apps draw under the grid, as GET /api/v1 tells it."""

from __future__ import annotations

import dataclasses

from gridsnap.maps.rules import basemap_view
from gridsnap.settings import Settings

PLAIN = Settings(database_url="postgresql+psycopg://x/y", redis_url="redis://x", media_dir=".")


def test_no_base_map_unless_configured():
    assert basemap_view(PLAIN) is None  # nothing is fetched from the internet by default


def test_tianditu_with_a_key_has_labels_in_both_languages():
    tdt = basemap_view(dataclasses.replace(PLAIN, basemap="tianditu", tianditu_key="k1"))
    assert "vec_w/wmts" in tdt["url"] and tdt["url"].endswith("tk=k1")
    assert "cva_w" in tdt["labels"]["zh-CN"] and "eva_w" in tdt["labels"]["en"]
    assert basemap_view(dataclasses.replace(PLAIN, basemap="tianditu")) is None  # no key


def test_an_xyz_template_with_optional_label_layers():
    xyz = basemap_view(dataclasses.replace(PLAIN, basemap_url="https://t/{z}/{x}/{y}.png"))
    assert xyz["kind"] == "xyz" and xyz["labels"] is None
    both = basemap_view(dataclasses.replace(PLAIN, basemap_url="https://t/{z}/{x}/{y}.png",
                                            basemap_labels_url="https://l/zh/{z}/{x}/{y}.png",
                                            basemap_labels_url_en="https://l/en/{z}/{x}/{y}.png"))
    assert both["labels"] == {"zh-CN": "https://l/zh/{z}/{x}/{y}.png",
                              "en": "https://l/en/{z}/{x}/{y}.png"}


def test_the_api_index_passes_it_to_the_apps(client):
    assert client.get("/api/v1").get_json()["basemap"] is None
