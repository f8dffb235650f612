"""How the grid import's checks grow with the grid: `validate_areas` on 10,000 and 100,000 cells.

    python -m bench.import_grid [--quick]   # prints the rows; bench.run calls run(quick)

Pure Python and GEOS, no database. The grid: streets of 100 communities of 10 × 10 touching
100 m cells near the Forbidden City (every neighbour shares an edge, so the overlap check has
the most candidate pairs it can have), ancestors derived. The larger grid's time is given as
a ratio to the smaller one's measured in the same run: linear growth is 10×, and the ratio
does not depend on how fast or busy the machine is the way the seconds do. quick=True: 1,000
and 10,000 cells.
"""

from __future__ import annotations

import statistics
import sys
import time

from shapely.geometry import MultiPolygon, box

# 100 m near the Forbidden City: 0.001172° of longitude, 0.0009° of latitude
LON0, LAT0, DX, DY = 116.40, 39.91, 0.001172, 0.0009
FULL = (10_000, 100_000)
QUICK = (1_000, 10_000)


def make_grid(n_cells: int) -> list:
    """n_cells (a multiple of 100) cells as AreaIn, 100 to a community, 100 communities to a
    street (the last street may have fewer), with no ancestors given."""
    from gridsnap.grid.rules import AreaIn

    areas = []
    for c in range(n_cells // 100):
        s, k = divmod(c, 100)
        code = f"110101{s + 1:03d}{k + 1:03d}"
        col, row = s * 100 + (k % 10) * 10, (k // 10) * 10
        for n in range(100):
            x, y = col + n % 10, row + n // 10
            boundary = MultiPolygon([box(LON0 + x * DX, LAT0 + y * DY,
                                         LON0 + (x + 1) * DX, LAT0 + (y + 1) * DY)])
            areas.append(AreaIn(f"{code}{n + 1:03d}", f"网格{code}{n + 1:03d}", None, "cell",
                                boundary, None))
    return areas


def _validate(n_cells: int, repeat: int) -> tuple[float, int]:
    """(median seconds of `repeat` runs, areas out) of validate_areas on a fresh grid;
    raises RuntimeError if the grid is not valid (a benchmark of a wrong answer is no figure)."""
    from gridsnap.grid.rules import validate_areas

    areas = make_grid(n_cells)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out, problems = validate_areas(areas)
        times.append(time.perf_counter() - t)
        if problems:
            raise RuntimeError(f"{n_cells:,} touching cells gave problems: {problems[:3]}")
    return statistics.median(times), len(out)


def run(quick: bool) -> list[dict]:
    """Rows {name, value, unit, note}: seconds for each size, and the larger over the smaller."""
    small, large = QUICK if quick else FULL
    repeat = 1 if quick else 3
    rows = []
    seconds = {}
    for n in (small, large):
        seconds[n], n_out = _validate(n, repeat)
        rows.append({"name": f"validate_areas, {n:,} cells", "value": round(seconds[n] * 1000),
                     "unit": "ms", "note": f"median of {repeat}; {n_out:,} areas out "
                                          "(communities, streets, district derived)"})
    rows.append({"name": f"validate_areas, {large:,} over {small:,} cells",
                 "value": round(seconds[large] / seconds[small], 1), "unit": "×",
                 "note": f"same run; linear growth would be {large / small:.0f}×"})
    return rows


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(f"{r['name']:<40} {r['value']:>8} {r['unit']:<2} {r['note']}")
