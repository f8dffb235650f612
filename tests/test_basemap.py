"""The base map the apps draw under the grid, as GET /api/v1 tells it."""

from __future__ import annotations

import dataclasses

from gridsnap.maps.rules import basemap_origins, basemap_view
from gridsnap.settings import Settings
from gridsnap.supervise import nginx_site

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
    root = client.get("/api/v1").get_json()
    assert root["basemap"] is None and root["tile_origins"] == []


def test_the_csp_allows_exactly_the_configured_tile_origins_http_included():
    assert basemap_origins(PLAIN) == ()
    intranet = dataclasses.replace(PLAIN, basemap_url="http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png",
                                   basemap_labels_url="http://labels.city.local/{z}/{x}/{y}.png")
    assert basemap_origins(intranet) == ("http://10.1.2.3:8080", "http://labels.city.local")
    subs = dataclasses.replace(PLAIN, basemap_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert basemap_origins(subs) == tuple(f"https://{d}.tile.example.org" for d in "abc")
    tdt = basemap_origins(dataclasses.replace(PLAIN, basemap="tianditu", tianditu_key="k"))
    assert tdt == tuple(f"https://t{d}.tianditu.gov.cn" for d in "01234567")

    def policy(origins):
        site = nginx_site(listen="80", upstream="127.0.0.1:8000", max_body_bytes=1,
                          temp_dir="/tmp", tile_origins=origins)
        return site.split("default \"", 1)[1].split("\";", 1)[0]

    csp = policy(basemap_origins(intranet))
    assert "img-src 'self' data: blob: http://10.1.2.3:8080 http://labels.city.local;" in csp
    assert "connect-src 'self' http://10.1.2.3:8080 http://labels.city.local;" in csp
    # no scheme-wide source: not https:, not http:
    assert " https:;" not in csp and " http:;" not in csp and " https: " not in csp
    assert "img-src 'self' data: blob:;" in policy(()) and "connect-src 'self';" in policy(())
