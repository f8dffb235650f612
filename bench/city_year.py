"""A city-year at growing sizes: the hot queries timed on 100,000, 300,000 and 1,000,000 cases
(a growth curve), to see which stay flat as the database grows.

    python -m bench.city_year [--quick] [--cases 100000,300000,1000000]
    make bench BENCH_ARGS="--only city-year --city-cases 100000,300000,1000000"

For each size N, bench.stats builds its city anew (database `gridsnap_bench_stats`, the demo
city and a city grid of a real city's size — 16 districts, 320 streets, 6,400 communities,
57,600 cells, bench.grid.CITY — N cases over Dec 2025 – Nov 2026 with the trail the closed loop
writes, bulk-loaded with the big tables' indexes built at the end, vacuumed and analyzed) and
times, as bench.stats does (median of 3 after one to warm the cache; of 1 from 3 million on):

- the case list, 50 a page newest first with its total: a supervisor whose scope (a street)
  holds ~1,000 open cases (pages 1 and 20), and the whole city as an admin sees it, unfiltered
  and by each of the list's filters (pages 1 and 1,000) (in-process, cases.views.list_cases);
- the current month mid-month (folded, kept to a watermark), the closed month's indicator table
  (2026-11) by street, department and community, and a district supervisor's; a year's 三率;
  每月一题; the map tiles z10–z16 at the city's centre, open cases and a month's cases; the
  table through the API and the month's CSV export (bench.stats.measure).

The issue's scale is 10,000,000 cases (a Beijing-sized year): `--city-cases` takes it, if the
disk and the hours allow; the default curve is what fits a shared 2-core machine in ~15
minutes. The month grows with N here (N is a year's cases): a figure that grows like the month
is linear in the data it must read; one that grows while its answer does not (the first page
of a list, a tile at a fixed zoom) does not stay flat. Rows: {name, value, unit, note}; the
growth rows give the largest size's figure over the smallest's.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from . import database
from . import grid as gridmod
from . import stats as city
from .env import BenchEnv

DEFAULT_SIZES = (100_000, 300_000, 1_000_000)
QUICK_SIZES = (20_000, 60_000)
OPEN_IN_SCOPE = 1_000
TARGET_LIST_S = 0.100


def say(msg: str) -> None:
    print(f"[bench.city-year] {msg}", file=sys.stderr, flush=True)


def _case_list(env: BenchEnv, repeat: int) -> tuple[list[dict], str]:
    """The case list, newest first, 50 a page with the total: a supervisor of the street with
    the open-case count nearest 1,000 (pages 1 and 20), and the whole city as an admin sees it,
    unfiltered and by each of the list's filters (pages 1 and 1,000)."""

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from gridsnap import clock
    from gridsnap.cases import views
    from gridsnap.cases.rules import OPEN_STATUSES
    from gridsnap.db import make_engine
    from gridsnap.users.rules import Principal

    url = env.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    eng = make_engine(url)
    real_now = clock.now
    clock.now = lambda: city.NOW  # noqa: E731
    rows: list[dict] = []
    try:
        with Session(eng) as session:
            street, n_open = session.execute(text("""
                SELECT street_code, count(*) FROM reports
                 WHERE status = ANY(:open) AND street_code IS NOT NULL
                 GROUP BY street_code ORDER BY abs(count(*) - :want), street_code LIMIT 1
            """), {"open": list(OPEN_STATUSES), "want": OPEN_IN_SCOPE}).one()
            category, department = session.execute(text("""
                SELECT category_code, department_code FROM reports
                 WHERE department_code IS NOT NULL
                 GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""")).one()
            session.rollback()
            sup = Principal(id=0, username="bench-sup", display_name="bench", role="supervisor",
                            scopes=(street,))
            admin = Principal(id=0, username="bench", display_name="bench", role="admin",
                              scopes=("",))
            lists = [(sup, f"a supervisor (~{OPEN_IN_SCOPE:,} open cases in scope: street "
                           f"{street}, {n_open:,})", {"statuses": list(OPEN_STATUSES)}, (1, 20))]
            for label, filters in (
                    ("unfiltered", {}),
                    (f"received in {city.MONTH}", {"received_from": city.MONTH_START,
                                                  "received_to": city.MONTH_END}),
                    ("closed", {"statuses": ["closed"]}),
                    ("open", {"statuses": list(OPEN_STATUSES)}),
                    (f"category {category}", {"category": category}),
                    (f"department {department}", {"department": department}),
                    (f"district {gridmod.CITY.district_code(0)}",
                     {"area_prefix": gridmod.CITY.district_code(0)}),
                    ("overdue", {"overdue": True})):
                lists.append((admin, f"the whole city, {label}", filters, (1, 1_000)))
            for who, what, filters, pages in lists:
                for page in pages:
                    def one(page=page, who=who, filters=filters):
                        out = views.list_cases(session, who, page=page, page_size=50, **filters)
                        session.rollback()
                        return out

                    med, (items, total) = city._timed(one, repeat)
                    ok = med < TARGET_LIST_S
                    rows.append({"name": f"case list of {what}, page {page:,} with its count",
                                 "value": round(med * 1000, 1), "unit": "ms",
                                 "target": f"< {TARGET_LIST_S * 1000:.0f} ms", "ok": ok,
                                 "note": f"median of {repeat}; total {total:,}, {len(items)} on "
                                         f"the page; newest first, page size 50; "
                                         f"{'ok' if ok else 'MISS'}"})
    finally:
        clock.now = real_now
        eng.dispose()
    return rows, street


def run(quick: bool, sizes: tuple[int, ...] | None = None, reuse: bool = False) -> list[dict]:
    """Each size built anew and measured; with `reuse`, a size the database already holds
    (built completely by an earlier run) is measured again without building it, the months
    that run kept still kept but the one measured (what reads them is timed again; keeping
    them is not)."""
    sizes = tuple(sizes or (QUICK_SIZES if quick else DEFAULT_SIZES))
    repeat = 3
    env = BenchEnv.make(Path(tempfile.gettempdir()) / "gridsnap-bench-city-year", db=city.DB)
    curve: dict[str, dict[int, float]] = {}
    units: dict[str, str] = {}
    rows: list[dict] = []
    for n in sizes:
        t = time.perf_counter()
        if reuse and city.built(env) == n:
            built = None
            database.upgrade(env)
            city.forget_month(env)
            say(f"{n:,} cases already built: measured again (the year's other months kept by "
                "the earlier run stay kept: keeping them is not measured again)")
        else:
            city.build(env, n)
            built = time.perf_counter() - t
            say(f"{n:,} cases built in {built:.0f} s")
        # past 3 million the folds take tens of seconds each: one timing after the warm-up
        times = repeat if n < 3_000_000 else 1
        measured, _ = _case_list(env, times)
        # from 10 million on, the months folded from the trail (the reference the kept tables
        # are measured against) are left out: ~40 s each, and linear in the month
        measured += city.measure(env, repeat=times, folds=n < 10_000_000)
        for r in measured:
            curve.setdefault(r["name"], {})[n] = r["value"]
            units[r["name"]] = r["unit"]
        if built is not None:
            rows.append({"name": f"city-year.build.{n}", "value": round(built), "unit": "s",
                         "note": f"{n:,} cases with their trail, generated, vacuumed and "
                                 f"analyzed; {city.disk(env)}"})
    lo, hi = sizes[0], sizes[-1]
    for name, by_n in curve.items():
        if lo not in by_n or hi not in by_n or not by_n[lo]:
            continue
        points = ", ".join(f"{k:,}: {v:,.1f}" for k, v in sorted(by_n.items()))
        growth = by_n[hi] / by_n[lo]
        rows.append({"name": f"{name} — {hi:,} / {lo:,} cases", "value": growth, "unit": "×",
                     "note": f"{units[name]} at {points} cases; the data grew "
                             f"{hi / lo:.0f}×"})
    say("growth: " + "; ".join(f"{r['name']} {r['value']:.2f}×" for r in rows
                               if r["unit"] == "×"))
    return rows


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.city_year")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cases", help="sizes, comma-separated (default 100000,300000,1000000)")
    ap.add_argument("--reuse", action="store_true",
                    help="measure a size the database already holds without building it")
    args = ap.parse_args()
    chosen = tuple(int(x) for x in args.cases.split(",")) if args.cases else None
    for r in run(args.quick, chosen, args.reuse):
        print(f"{r['name']:<90} {r['value']:>12,.2f} {r['unit']:<6} {r['note']}")
