"""The benchmark's city grid (bench.grid.City): the real city's shape the city-year figures are
measured on. Each level's count, every unit inside its parent, codes nested as the importer
writes them (district 6 digits, then 3 per level), and no two units of a level overlapping —
checked on a small city inserted in a transaction that is rolled back."""

from __future__ import annotations

import psycopg
import pytest

from bench.grid import CITY, City, insert_city


def test_the_city_has_a_real_citys_numbers():
    assert CITY.count("district") == 16
    assert CITY.count("street") == 320
    assert CITY.count("community") == 6_400
    assert CITY.count("cell") == 57_600


@pytest.fixture()
def conn(settings, database):
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as c:
        yield c
        c.rollback()


def test_every_unit_lies_in_its_parent_and_the_codes_nest(conn):
    small = City(x0=117.9, y0=41.0, districts=(2, 1), streets=(2, 3), communities=(3, 2),
                 cells=(2, 2), first_district=90)
    counts = insert_city(conn, small)
    assert counts == {"district": 2, "street": 12, "community": 72, "cell": 288}
    rows = conn.execute("""
        SELECT c.level, c.code, c.parent_code, p.level,
               ST_Covers(p.boundary, c.boundary), c.name, c.name_en
          FROM areas c LEFT JOIN areas p ON p.code = c.parent_code
         WHERE left(c.code, 6) IN ('110190', '110191')""").fetchall()
    parent_of = {"street": "district", "community": "street", "cell": "community"}
    length = {"district": 6, "street": 9, "community": 12, "cell": 15}
    for level, code, parent, parent_level, inside, name, name_en in rows:
        assert len(code) == length[level] and code.isdigit()
        if level == "district":
            assert parent is None and name_en.startswith("Bench District")
            continue
        assert parent == code[:-3] and parent_level == parent_of[level]
        assert inside, (code, parent)
        assert name and (name_en or level == "cell")
    # the units of a level tile the city: no overlaps, and they cover it whole
    for level in ("district", "street", "community", "cell"):
        overlaps, area, union = conn.execute("""
            SELECT (SELECT count(*) FROM areas a JOIN areas b
                        ON a.code < b.code AND a.level = b.level
                       AND ST_Relate(a.boundary, b.boundary, '2********')
                     WHERE a.level = %(l)s AND left(a.code, 6) IN ('110190', '110191')),
                   sum(ST_Area(boundary)), ST_Area(ST_Union(boundary))
              FROM areas WHERE level = %(l)s AND left(code, 6) IN ('110190', '110191')
        """, {"l": level}).fetchone()
        assert overlaps == 0, level
        assert abs(area - union) < 1e-9 * max(area, 1e-12) + 1e-12, level
