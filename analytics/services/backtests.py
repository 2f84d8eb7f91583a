"""Backtests as a product: any grid configuration over a stored period, run in the worker on
the live engine's compiled kernel (bots.engine.backtest), stored with everything the result page
shows: equity and drawdown, grid profit vs inventory PnL vs fees (funding is not simulated and
says so) vs buy and hold, cycles per day, time in range, the fills, and a walk-forward split
(in-sample vs out-of-sample) by default. Quotas come from the user's plan (billing)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from analytics import selectors
from analytics.models import Backtest, CandleSeries
from analytics.services.candles import series_fees, series_rules
from billing.services import entitlement_check
from bots.engine import ConfigError
from bots.engine.backtest import BacktestResult, backtest
from bots.engine.candles import POINTS_PER_CANDLE, PricePath
from bots.engine.config import GridConfig, Strategy
from bots.engine.sweep import sweep
from bots.schemas import validate_grid_config
from config.errors import DomainError

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
MAX_CURVE_POINTS = 1500
MAX_FILLS = 3000
MIN_CANDLES = 60
STRATEGY_OF = {"spot": Strategy.SPOT_GRID, "linear": Strategy.LINEAR_GRID}


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.00000001"))


def _s(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.00000001")).normalize(), "f") if value else "0"


def _config(series: CandleSeries, data) -> GridConfig:
    try:
        config = validate_grid_config(data)
    except ConfigError as exc:
        raise DomainError(str(exc), code="invalid_config", fields=getattr(exc, "errors", {}) or {}) from exc
    if config.strategy != STRATEGY_OF[series.category]:
        raise DomainError(
            f"{series.symbol} on {series.venue} is a {series.category} market: choose the matching grid type.",
            code="invalid_config",
            fields={"strategy": "does not match the market"},
        )
    return config


def backtest_create(
    *,
    user,
    series_id: int,
    config: dict,
    period_start: datetime,
    period_end: datetime,
    in_sample_percent: int = 70,
    name: str = "",
) -> Backtest:
    """Check the request and the plan's daily quota, store the backtest queued and hand it to the
    worker after commit. Raises DomainError (400) or PlanLimitError (402)."""
    try:
        series = CandleSeries.objects.get(pk=series_id)
    except CandleSeries.DoesNotExist as exc:
        raise DomainError("There is no market data for this symbol.", code="invalid_symbol") from exc
    grid = _config(series, config)
    if period_end <= period_start:
        raise DomainError(
            "The end of the period must be after its start.", code="invalid", fields={"period_end": "before the start"}
        )
    if not 50 <= in_sample_percent <= 90:
        raise DomainError(
            "The in-sample part must be 50-90 % of the period.", code="invalid", fields={"in_sample_percent": "50-90"}
        )
    if (
        series.first_time is None  # no candles yet: cursor is None too (both set from one aggregate)
        or series.cursor is None
        or period_end <= series.first_time
        or period_start > series.cursor
    ):
        raise DomainError(
            "There are no candles for this period: choose dates inside the stored data.",
            code="invalid",
            fields={"period_start": "no candles"},
        )
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one quota check at a time
        today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        entitlement_check(
            user=user,
            action="backtest_run",
            used_today=Backtest.objects.filter(user=user, created_at__gte=today).count(),
        )
        bt = Backtest.objects.create(
            user=user,
            series=series,
            name=name[:80],
            config=grid.to_json(),
            period_start=max(period_start, series.first_time),
            period_end=period_end,
            in_sample_percent=in_sample_percent,
        )
        transaction.on_commit(lambda: _enqueue(bt.pk))
    return bt


def _enqueue(backtest_id: int) -> None:
    from analytics.tasks import backtest_run_task

    backtest_run_task.delay(backtest_id)


def _progress(bt: Backtest, value: int) -> None:
    bt.progress = value
    Backtest.objects.filter(pk=bt.pk).update(progress=value, status=Backtest.Status.RUNNING)
    _push(bt, status=Backtest.Status.RUNNING)


def _push(bt: Backtest, *, status: str) -> None:
    """The run's progress to its owner's open pages (/ws/, the user's group), as it is written.
    The page also reads the row, so a lost push only delays the bar; it never fails the run."""
    from live.events import send_now

    try:
        send_now(
            user_id=bt.user_id,
            bot_id=None,
            event="backtest.progress",
            data={"backtest_id": bt.pk, "progress": bt.progress, "status": status},
        )
    except Exception:  # noqa: BLE001 - the live push is best effort, the stored row is the truth
        logger.warning("backtest %s: progress push failed", bt.pk, exc_info=True)


def _sub(path: PricePath, a: int, b: int) -> PricePath:
    return PricePath(path.tick, path.ticks[a * POINTS_PER_CANDLE : b * POINTS_PER_CANDLE], path.times[a:b])


def _segment(config: GridConfig, rules, path: PricePath, fees, lower: Decimal, upper: Decimal) -> dict:
    """One walk-forward part: the same kernel (sweep: exact totals, no fill list)."""
    row = sweep([config], rules, path, fees=fees)[0]
    if row.error:
        return {"error": row.error, "candles": path.candles}
    days = Decimal(path.candles) / Decimal(1440)
    first, last = path.price(0), path.price(len(path) - 1)
    hold = config.investment * (last / first) - config.investment
    lo, hi = int(lower / path.tick), int(upper / path.tick)
    closes = path.closes
    in_range = int(((closes >= lo) & (closes <= hi)).sum())
    return {
        "candles": path.candles,
        "days": _s(days),
        "start_time": int(path.times[0]),
        "total_pnl": _s(row.total_pnl),
        "roi_percent": _s(row.roi_percent),
        "fees_paid": _s(row.fees_paid),
        "max_drawdown": _s(row.max_drawdown),
        "round_trips": row.grid_sells,
        "round_trips_per_day": _s(Decimal(row.grid_sells) / days),
        "buy_and_hold_pnl": _s(hold),
        "time_in_range_percent": _s(Decimal(in_range * 100) / Decimal(len(closes))),
        "stop": row.stop,
    }


def _figures(config: GridConfig, r: BacktestResult, path: PricePath, lower: Decimal, upper: Decimal) -> dict:
    days = Decimal(path.candles) / Decimal(1440)
    first = path.price(0)
    last = path.price(len(path) - 1)
    # Buy and hold: the same money in the coin at the first price, taker fee once, valued at the end.
    hold = (config.investment * (last / first) - config.investment) if first else ZERO
    closes = path.closes
    lo, hi = int(lower / path.tick), int(upper / path.tick)
    in_range = int(((closes >= lo) & (closes <= hi)).sum())
    funding = ZERO  # not simulated by the engine (docs/engine-contract.md)
    return {
        "candles": path.candles,
        "days": _s(days),
        "launched": r.sizing is not None,
        "start_price": _s(r.start_price),
        "end_price": _s(r.end_price),
        "total_pnl": _s(r.total_pnl),
        "roi_percent": _s(r.total_pnl / config.investment * 100),
        "grid_profit": _s(r.grid_profit),
        # everything not earned by completed cycles (the coins' price move, fees of open lots),
        # from the rounded figures so that the parts shown add up to the total shown
        "inventory_pnl": _s(_q(r.total_pnl) - _q(r.grid_profit) - funding),
        "fees_paid": _s(r.fees_paid),
        "funding": _s(funding),
        "funding_simulated": False,
        "buy_and_hold_pnl": _s(hold),
        "buy_and_hold_roi_percent": _s(hold / config.investment * 100),
        "max_drawdown": _s(r.max_drawdown),
        "max_drawdown_percent": _s(r.max_drawdown / config.investment * 100),
        "cycles": r.cycle_count,
        "cycles_per_day": _s(Decimal(r.cycle_count) / days) if days else "0",
        "time_in_range_percent": _s(Decimal(in_range * 100) / Decimal(len(closes))),
        "fills": len(r.fills),
        "equity": _s(r.equity),
        "stop": {"kind": r.stop.kind, "code": r.stop.code, "reason": r.stop.reason, "time": r.stop.time}
        if r.stop
        else None,
    }


def _curve(r: BacktestResult, path: PricePath) -> list[dict]:
    n = len(r.equity_curve)
    step = max(1, -(-n // MAX_CURVE_POINTS))
    out = []
    peak = ZERO
    worst_since = ZERO
    for i, equity in enumerate(r.equity_curve):
        peak = max(peak, equity)
        worst_since = min(worst_since, equity - peak)
        if i % step == 0 or i == n - 1:
            out.append({"time": int(path.times[i]), "equity": _s(equity), "drawdown": _s(worst_since)})
            worst_since = ZERO
    return out


def backtest_run(*, backtest_id: int) -> Backtest:
    """Run a queued backtest to the end and store its result (the worker's task body)."""
    t0 = time.perf_counter()
    bt = Backtest.objects.select_related("series").get(pk=backtest_id)
    if bt.status in (Backtest.Status.DONE, Backtest.Status.FAILED):
        return bt  # a redelivered task changes nothing
    _progress(bt, 5)
    series = bt.series
    rules, fees = series_rules(series), series_fees(series)
    config = GridConfig.from_json(bt.config)
    path = selectors.price_path(series=series, start=bt.period_start, end=bt.period_end)
    found = path.candles if path is not None else 0
    if found < MIN_CANDLES:
        return _fail(bt, "invalid", f"The period has {found} candles; a backtest needs at least {MIN_CANDLES}.")
    assert path is not None  # it has at least MIN_CANDLES candles
    _progress(bt, 25)
    lower, upper = config.lower_price, config.upper_price
    try:
        full = backtest(config, rules, path, fees=fees)
    except ConfigError as exc:
        return _fail(bt, "invalid_config", str(exc))
    _progress(bt, 60)
    split = path.candles * bt.in_sample_percent // 100
    walk = {
        "split_time": int(path.times[split]),
        "in_sample": _segment(config, rules, _sub(path, 0, split), fees, lower, upper),
        "out_of_sample": _segment(config, rules, _sub(path, split, path.candles), fees, lower, upper),
    }
    _progress(bt, 85)
    summary = _figures(config, full, path, lower, upper)
    fills = [
        {
            "time": f.time,
            "side": str(f.side),
            "price": _s(f.price),
            "qty": _s(f.qty),
            "purpose": f.purpose,
            "level": f.level,
        }
        for f in full.fills[:MAX_FILLS]
    ]
    bt.summary = summary
    bt.result = {
        "equity_curve": _curve(full, path),
        "fills": fills,
        "fills_truncated": len(full.fills) > MAX_FILLS,
        "walk_forward": walk,
        "investment": _s(config.investment),
        "engine": full.engine,
    }
    bt.status = Backtest.Status.DONE
    bt.progress = 100
    bt.finished_at = timezone.now()
    bt.duration_ms = int((time.perf_counter() - t0) * 1000)
    bt.save(update_fields=["summary", "result", "status", "progress", "finished_at", "duration_ms"])
    _push(bt, status=bt.status)
    return bt


def _fail(bt: Backtest, code: str, message: str) -> Backtest:
    bt.status, bt.error_code, bt.error, bt.finished_at = Backtest.Status.FAILED, code, message[:300], timezone.now()
    bt.save(update_fields=["status", "error_code", "error", "finished_at"])
    _push(bt, status=bt.status)
    return bt


def backtest_launch_query(*, backtest: Backtest) -> dict:
    """What "launch this configuration" puts in the create form (query parameters)."""
    return {
        "venue": backtest.series.venue,
        "symbol": backtest.series.symbol,
        "category": backtest.series.category,
        "config": backtest.config,
    }
