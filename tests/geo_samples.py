"""A small test grid away from the demo city (district 990101, near lon 100, lat 30).

Community 990101001001, 3 × 2 cells of 0.001°:
  001 [0,1]×[0,1]  002 [1,2]×[0,1]  003 [0,1]×[1,2]  004 [1,2]×[1,2]   (in 0.001° from 100,30)
  005 [2,3]×[0,1] with a hole (a courtyard) [2.4,2.6]×[0.4,0.6]; 006 is exactly the hole
  007 and 008: the square [2,3]×[1,2] split like a chessboard into two MultiPolygons
Community 990101001002 [3,4]×[0,2] has one cell 001 on its lower half; its upper half is in no
cell, so a point there is outside the grid but inside the community.
"""

from __future__ import annotations

import json
from pathlib import Path

X0, Y0, S = 100.0, 30.0, 0.001


def box(x1, y1, x2, y2):
    return [[X0 + x1 * S, Y0 + y1 * S], [X0 + x2 * S, Y0 + y1 * S], [X0 + x2 * S, Y0 + y2 * S],
            [X0 + x1 * S, Y0 + y2 * S], [X0 + x1 * S, Y0 + y1 * S]]


def point(x, y) -> dict:
    return {"lon": X0 + x * S, "lat": Y0 + y * S}


def feature(code, name, geometry, name_en=None) -> dict:
    props = {"code": code, "name": name}
    if name_en:
        props["name_en"] = name_en
    return {"type": "Feature", "properties": props, "geometry": geometry}


def poly(*rings) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def multi(*polys) -> dict:
    return {"type": "MultiPolygon", "coordinates": [list(p) for p in polys]}


def sample_grid() -> dict:
    c1, c2 = "990101001001", "990101001002"
    features = [
        feature(c1, "测试一社区", poly(box(0, 0, 3, 2)), "Test Community One"),
        feature(c2, "测试二社区", poly(box(3, 0, 4, 2))),
        feature(c1 + "001", "一号网格", poly(box(0, 0, 1, 1))),
        feature(c1 + "002", "二号网格", poly(box(1, 0, 2, 1))),
        feature(c1 + "003", "三号网格", poly(box(0, 1, 1, 2))),
        feature(c1 + "004", "四号网格", poly(box(1, 1, 2, 2))),
        feature(c1 + "005", "五号网格（有院子）",
                poly(box(2, 0, 3, 1), list(reversed(box(2.4, 0.4, 2.6, 0.6))))),
        feature(c1 + "006", "院子网格", poly(box(2.4, 0.4, 2.6, 0.6))),
        feature(c1 + "007", "七号网格（两块）",
                multi([box(2, 1, 2.5, 1.5)], [box(2.5, 1.5, 3, 2)])),
        feature(c1 + "008", "八号网格（两块）",
                multi([box(2.5, 1, 3, 1.5)], [box(2, 1.5, 2.5, 2)])),
        feature(c2 + "001", "二社区一号网格", poly(box(3, 0, 4, 1))),
    ]
    return {"type": "FeatureCollection", "features": features}


def write(path: Path, obj: dict) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path
