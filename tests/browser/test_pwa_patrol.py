"""按时巡 on the phone: a patrol recorded offline keeps its points through a reload, and is sent
in batches (start, points, end) when the network returns; nothing is recorded after its end."""

from __future__ import annotations

from sqlalchemy import text

from .pwa import login, sync_now, wait_for_offline_data, wait_for_service_worker, wait_outbox


def _points(items) -> int:
    return sum(len(i["body"]["points"]) for i in items if i["kind"] == "patrol")


def test_a_patrol_recorded_offline_survives_a_reload_and_is_sent_once(phone, worker_login,
                                                                     engine, demo_cell):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill].off")
    assert page.get_attribute("[data-testid=patrolbar]", "data-recording") == "no"
    page.click("[data-testid=patrol-toggle]")
    page.wait_for_selector("[data-testid=patrolbar][data-recording=yes]")
    lon, lat = demo_cell["lon"], demo_cell["lat"]
    # walking east ~20 m a step: each fix is a new point
    for step in range(1, 4):
        phone.set_geolocation({"latitude": lat, "longitude": lon + step * 0.00025,
                               "accuracy": 6})
        wait_outbox(page, lambda xs, n=step: _points(xs) >= n, what=f"{step} points")
    page.reload()
    page.wait_for_selector("[data-testid=patrolbar][data-recording=yes]")
    for step in range(4, 6):
        phone.set_geolocation({"latitude": lat, "longitude": lon + step * 0.00025,
                               "accuracy": 6})
        wait_outbox(page, lambda xs, n=step: _points(xs) >= n, what=f"{step} points after reload")
    page.click("[data-testid=patrol-toggle]")
    page.wait_for_selector("[data-testid=patrolbar][data-recording=no]")
    kept = _points(wait_outbox(page, lambda xs: xs[0]["body"]["ended_at"] is not None,
                               what="the patrol ended"))
    phone.set_geolocation({"latitude": lat, "longitude": lon + 0.002, "accuracy": 6})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patrols")).scalar() == 0
    phone.set_offline(False)
    page.wait_for_selector("[data-testid=netpill].on")
    sync_now(page)
    items = wait_outbox(page, lambda xs: [x["state"] for x in xs] == ["accepted"],
                        what="the patrol accepted")
    assert _points(items) == kept  # nothing recorded after the end
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ended_at IS NOT NULL AS ended, points, distance_m FROM patrols"
        )).mappings().one()
        cells = conn.execute(text("SELECT count(*) FROM patrol_cells")).scalar()
    assert row["ended"] and row["points"] == kept >= 5 and row["distance_m"] > 50
    assert cells >= 1 and items[0]["server"]["cells"] == cells
