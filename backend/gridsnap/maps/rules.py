"""What a map tile shows at each zoom: never every point of the city at once.

z ≥ 14 (a few streets): every case as a point, plus the cell grid.
12 ≤ z < 14 (a street): per-cell counts on the cell polygons, and the cell grid from z 13.
z < 12 (district, city): per-community counts (street counts below z 10) on their polygons.
"""

from __future__ import annotations

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
