"""Backtests as a product: request -> worker -> stored result, the figures a user reads, the
walk-forward split, the plan's quota, privacy, and equality with the live engine."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from analytics import selectors
from analytics.management.commands.analytics_import_shipped import DATA, FILES, RULES
from analytics.models import Backtest
from analytics.services import candles_upsert, read_shipped_csv, series_ensure, series_fees, series_rules
from bots.engine import GridConfig
from bots.engine.backtest import backtest
from bots.engine.candles import PricePath
from tests.bots.engine.conftest import load_candles

pytestmark = pytest.mark.django_db

DAYS = 3
CONFIG = {
    "strategy": "spot_grid",
    "lower_price": "52000",
    "upper_price": "58000",
    "grid_count": 30,
    "spacing": "arithmetic",
    "investment": "1000",
}


@pytest.fixture
def btc(db):
    """Three real days of Binance BTC/USDT stored for the twin's spot BTCUSDT."""
    series = series_ensure(venue="bybit", rules=RULES[0])
    bars = read_shipped_csv(DATA / FILES["BTCUSDT"])[: DAYS * 1440]
    candles_upsert(series=series, bars=bars)
    series.refresh_from_db()
    return series


@pytest.fixture
def run_in_worker(monkeypatch, django_capture_on_commit_callbacks):
    """The worker's task body runs when the transaction commits, as Celery would run it."""
    from analytics import tasks

    monkeypatch.setattr(tasks.backtest_run_task, "delay", lambda pk: tasks.backtest_run_task(pk))
    return django_capture_on_commit_callbacks


def _request(series, **over):
    return {
        "series_id": series.id,
        "config": CONFIG,
        "period_start": series.first_time.isoformat(),
        "period_end": (series.first_time + timedelta(days=DAYS)).isoformat(),
        **over,
    }


def test_a_backtest_runs_in_the_worker_and_its_stored_result_reads_like_the_bot_page(btc, user_client, run_in_worker):
    with run_in_worker(execute=True):
        created = user_client.post("/api/analytics/backtests/", _request(btc), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "queued"
    body = user_client.get(f"/api/analytics/backtests/{created.json()['id']}/").json()
    assert body["status"] == "done" and body["progress"] == 100
    s = body["summary"]
    # the parts add up to the total: grid profit + inventory PnL (+ funding, not simulated) = total
    assert D(s["grid_profit"]) + D(s["inventory_pnl"]) + D(s["funding"]) == D(s["total_pnl"])
    assert s["funding_simulated"] is False
    assert s["cycles"] > 0 and D(s["cycles_per_day"]) == (D(s["cycles"]) / D(DAYS)).quantize(D("1e-8")).normalize()
    assert D("0") < D(s["time_in_range_percent"]) <= D("100")
    assert D(s["max_drawdown"]) >= 0 and D(s["fees_paid"]) > 0
    result = body["result"]
    curve = result["equity_curve"]
    assert curve[0]["time"] == int(btc.first_time.timestamp()) and len(curve) <= 1500
    assert all(D(p["drawdown"]) <= 0 for p in curve)
    assert result["fills"] and {f["side"] for f in result["fills"]} == {"Buy", "Sell"}
    wf = result["walk_forward"]
    assert wf["in_sample"]["candles"] + wf["out_of_sample"]["candles"] == DAYS * 1440
    assert wf["out_of_sample"]["start_time"] == wf["split_time"]
    assert wf["in_sample"]["round_trips"] + wf["out_of_sample"]["round_trips"] > 0
    assert wf["in_sample"]["candles"] == DAYS * 1440 * 70 // 100
    assert body["launch"]["config"]["lower_price"] == "52000" and body["launch"]["symbol"] == "BTCUSDT"
    chart = user_client.get(f"/api/analytics/backtests/{created.json()['id']}/?chart=1").json()["chart"]
    assert chart["bar_minutes"] == 15 and DAYS * 96 <= len(chart["candles"]) <= DAYS * 96 + 1  # at most 720 bars
    assert 0 <= int(btc.first_time.timestamp()) - chart["candles"][0]["time"] < 15 * 60
    assert chart["levels"][0] == "52000" and chart["levels"][-1] == "58000" and len(chart["levels"]) == 31


def test_the_stored_result_is_the_engine_over_the_same_candles(btc, user):
    """The engine's kernel is proved equal to a live bot on the simulator
    (tests/bots/engine/test_kernel_live.py); here the product's backtest is proved to be that
    engine over the candles the store holds, read back from PostgreSQL."""
    from analytics.services import backtest_create, backtest_run

    bt = backtest_create(
        user=user,
        series_id=btc.id,
        config=CONFIG,
        period_start=btc.first_time,
        period_end=btc.first_time + timedelta(days=DAYS),
    )
    bt = backtest_run(backtest_id=bt.pk)
    from_file = load_candles("binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv", count=DAYS * 1440)
    assert selectors.candles_engine(series=btc) == from_file
    stored_path = selectors.price_path(series=btc)
    file_path = PricePath.from_candles(from_file, btc.tick_size)
    assert (stored_path.ticks == file_path.ticks).all() and (stored_path.times == file_path.times).all()
    config = GridConfig.from_json(CONFIG)
    engine = backtest(
        config, series_rules(btc), PricePath.from_candles(from_file, btc.tick_size), fees=series_fees(btc)
    )
    assert D(bt.summary["total_pnl"]) == engine.total_pnl.quantize(D("1e-8"))
    assert D(bt.summary["grid_profit"]) == engine.grid_profit.quantize(D("1e-8"))
    assert bt.summary["cycles"] == engine.cycle_count and bt.summary["fills"] == len(engine.fills)
    assert [(f["time"], f["side"], D(f["price"])) for f in bt.result["fills"]] == [
        (f.time, str(f.side), f.price) for f in engine.fills
    ]


def test_the_free_plan_allows_three_backtests_a_day(btc, user_client, run_in_worker):
    for _ in range(3):
        assert user_client.post("/api/analytics/backtests/", _request(btc), format="json").status_code == 201
    refused = user_client.post("/api/analytics/backtests/", _request(btc), format="json")
    assert refused.status_code == 402
    assert refused.json()["code"] == "plan_limit_backtests"
    assert Backtest.objects.count() == 3


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"config": {**CONFIG, "lower_price": "60000"}}, "invalid_config"),
        ({"config": {**CONFIG, "strategy": "linear_grid"}}, "invalid_config"),
        ({"period_start": "2030-01-01T00:00:00Z", "period_end": "2030-02-01T00:00:00Z"}, "invalid"),
        ({"series_id": 999999}, "invalid_symbol"),
    ],
)
def test_a_bad_request_is_refused_in_words_and_nothing_is_stored(btc, user_client, change, code):
    answer = user_client.post("/api/analytics/backtests/", _request(btc, **change), format="json")
    assert answer.status_code == 400 and answer.json()["code"] == code and answer.json()["detail"]
    assert not Backtest.objects.exists()


def test_another_users_backtest_is_not_found(btc, user, other_client):
    from analytics.services import backtest_create

    bt = backtest_create(
        user=user,
        series_id=btc.id,
        config=CONFIG,
        period_start=btc.first_time,
        period_end=btc.first_time + timedelta(days=1),
    )
    assert other_client.get(f"/api/analytics/backtests/{bt.pk}/").status_code == 404
    assert other_client.get("/api/analytics/backtests/").json() == []
    assert other_client.get(f"/api/analytics/backtests/?ids={bt.pk}").json() == []


def test_backtests_compare_side_by_side(btc, user_client, run_in_worker):
    ids = []
    with run_in_worker(execute=True):
        for count in (10, 40):
            body = _request(btc, config={**CONFIG, "grid_count": count})
            ids.append(user_client.post("/api/analytics/backtests/", body, format="json").json()["id"])
    both = user_client.get(f"/api/analytics/backtests/?ids={ids[0]},{ids[1]}").json()
    by_grids = {b["config"]["grid_count"]: b["summary"] for b in both}
    assert set(by_grids) == {10, 40}
    assert by_grids[40]["cycles"] > by_grids[10]["cycles"]  # a denser grid trades more often


def test_the_worker_pushes_its_progress_to_the_owners_live_group_up_to_the_result(btc, user, other_user):
    """What the /backtests page's bar moves on: backtest.progress events in the user's /ws/
    group, rising, the last one "done" at 100 when the result is stored; nothing to others."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from analytics.services import backtest_create, backtest_run
    from bots import events

    layer = get_channel_layer()
    mine, theirs = async_to_sync(layer.new_channel)(), async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.user_group(user.pk), mine)
    async_to_sync(layer.group_add)(events.user_group(other_user.pk), theirs)
    bt = backtest_create(
        user=user, series_id=btc.id, config=CONFIG, period_start=btc.first_time,
        period_end=btc.first_time + timedelta(days=DAYS),
    )
    backtest_run(backtest_id=bt.pk)

    async def drain(channel):
        import asyncio

        out = []
        while True:
            try:
                out.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                return out

    pushed = [m for m in async_to_sync(drain)(mine) if m["event"] == "backtest.progress"]
    assert [m["data"]["backtest_id"] for m in pushed] == [bt.pk] * len(pushed)
    progress = [m["data"]["progress"] for m in pushed]
    assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 100
    assert pushed[-1]["data"]["status"] == "done" and {m["data"]["status"] for m in pushed[:-1]} == {"running"}
    assert [m for m in async_to_sync(drain)(theirs) if m["event"] == "backtest.progress"] == []
