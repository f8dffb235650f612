"""What a map tile shows at each zoom: never every point of the city at once.

z ≥ 14 (a few streets): every case as a point, plus the cell grid.
12 ≤ z < 14 (a street): per-cell counts on the cell polygons, and the cell grid from z 13.
z < 12 (district, city): per-community counts (street counts below z 10) on their polygons.
"""

from __future__ import annotations

from urllib.parse import urlsplit

POINTS_FROM_Z = 14
CELLS_FROM_Z = 12
GRID_FROM_Z = 13
COMMUNITIES_FROM_Z = 10
MAX_Z = 22


def layers_for(z: int) -> list[str]:
    if z >= POINTS_FROM_Z:
        return ["cases", "grid"]
    if z >= CELLS_FROM_Z:
        return ["cells", "grid"] if z >= GRID_FROM_Z else ["cells"]
    return ["areas"]


def area_level_for(z: int) -> str:
    return "community" if z >= COMMUNITIES_FROM_Z else "street"


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_Z and 0 <= x < 2 ** z and 0 <= y < 2 ** z


# The base map under the grid. Tianditu (天地图) by its WMTS in key-value form, Web Mercator
# tile matrix set "w": its coordinates are CGCS2000, which agrees with the grid's WGS 84
# (EPSG:4326) to centimetres, so no shift is needed (unlike GCJ-02 sources such as AMap).
# Labels come as a separate layer: cva (Chinese) and eva (English).
_TIANDITU = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
             "&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
             "&TILECOL={x}&tk=%s")
TIANDITU_SUBDOMAINS = "01234567"


def basemap_view(settings) -> dict | None:
    """The base map the apps draw under the grid (GET /api/v1 → basemap), or None.

    GRIDSNAP_BASEMAP: "tianditu" (with GRIDSNAP_TIANDITU_KEY) or "xyz" (GRIDSNAP_BASEMAP_URL, an
    XYZ raster template with {z}/{x}/{y} and optionally {s}); unset: none. Labels: a URL per
    language ("zh-CN", "en"), or none when the base tiles carry their own.
    """
    kind = settings.basemap or ("xyz" if settings.basemap_url else "")
    if kind == "tianditu" and settings.tianditu_key:
        key = settings.tianditu_key
        return {"kind": "tianditu", "url": _TIANDITU % ("vec", "vec", key),
                "subdomains": TIANDITU_SUBDOMAINS,
                "labels": {"zh-CN": _TIANDITU % ("cva", "cva", key),
                           "en": _TIANDITU % ("eva", "eva", key)},
                "attribution": settings.basemap_attribution or "© 天地图 Tianditu",
                "max_zoom": min(settings.basemap_max_zoom, 18)}
    if kind == "xyz" and settings.basemap_url:
        labels = {}
        if settings.basemap_labels_url:
            labels["zh-CN"] = settings.basemap_labels_url
            labels["en"] = settings.basemap_labels_url_en or settings.basemap_labels_url
        return {"kind": "xyz", "url": settings.basemap_url, "subdomains": "abc",
                "labels": labels or None, "attribution": settings.basemap_attribution,
                "max_zoom": settings.basemap_max_zoom}
    return None


def basemap_origins(settings) -> tuple[str, ...]:
    """The origins the apps fetch base-map tiles from (scheme://host[:port], http included:
    many city intranets serve tiles over http), one per subdomain of a {s} template, sorted: what
    the front server's Content-Security-Policy allows in img-src and connect-src, and nothing
    else. None when no base map is configured."""
    view = basemap_view(settings)
    if not view:
        return ()
    templates = [view["url"], *(view["labels"] or {}).values()]
    out = set()
    for template in templates:
        subs = view["subdomains"] if "{s}" in template else " "
        for sub in subs:
            parts = urlsplit(template.replace("{s}", sub.strip()))
            if parts.scheme in ("http", "https") and parts.netloc:
                out.add(f"{parts.scheme}://{parts.netloc}")
    return tuple(sorted(out))
