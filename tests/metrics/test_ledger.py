"""A spot grid replays a real day on the simulator through the lifecycle services; the metrics
kept incrementally by the tick must equal what the exchange's own ledger says:
- every execution counted once;
- total PnL = the change of the account's wallet value (USDT + BTC × price) to the last unit;
- grid profit and cycles = an independent FIFO pairing over the ledger, in exact fractions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from bots.engine.ids import parse_client_order_id
from bots.models import Bot
from bots.services import bot_start, bot_tick
from metrics.models import BotMetrics, Cycle
from metrics.services import metrics_reconcile, metrics_update_price
from tests.factories import BotFactory, grid_config
from tests.market_data import BTCUSDT_2021
from trading.models import Trade

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CSV = BTCUSDT_2021
FUNDING = Decimal("10000")


@pytest.fixture(scope="module")
def sim():
    from exchanges.simulator.testing import running_simulator

    with running_simulator(replay=["BTCUSDT"]) as handle:
        yield handle


def independent_grid_profit(executions, base_coin: str) -> tuple[int, Fraction]:
    """Sell at line L closes base bought at line L-1 first-in first-out; exact arithmetic."""
    lots: dict[int, list[list[Fraction]]] = {}
    closing_orders: set[str] = set()
    profit = Fraction(0)
    for e in executions:
        key = parse_client_order_id(e["orderLinkId"])
        if key is None or key.purpose != "grid":
            continue
        qty, price, fee = Fraction(e["execQty"]), Fraction(e["execPrice"]), Fraction(e["execFee"])
        fee_in_base = (e.get("feeCurrency") or "USDT") == base_coin
        if e["side"] == "Buy":
            lots.setdefault(key.level, []).append([qty - fee if fee_in_base else qty, qty * price + (0 if fee_in_base else fee)])
            continue
        queue = lots.get(key.level - 1, [])
        want = qty
        proceeds = qty * price - fee
        cost = Fraction(0)
        matched = Fraction(0)
        while want > 0 and queue:
            base, lot_cost = queue[0]
            take = min(base, want)
            cost += lot_cost * take / base
            matched += take
            want -= take
            if take == base:
                queue.pop(0)
            else:
                queue[0] = [base - take, lot_cost - lot_cost * take / base]
        if matched == qty:  # fully closed by the line below: a pure grid cycle
            closing_orders.add(e["orderId"])
            profit += proceeds - cost
        elif matched:
            pytest.fail("a grid sell partly matched the line below; this scenario must not need the initial lots")
    return len(closing_orders), profit


@pytest.mark.skipif(not CSV.exists(), reason="real data not available")
def test_spot_day_metrics_equal_the_exchange_ledger(sim, settings):
    from tests.factories import ExchangeAccountFactory

    settings.SETKA_SIMULATOR_URL = sim.base_url
    settings.SETKA_SIMULATOR_WS_URL = sim.ws_url
    sim.control.clear_faults()
    sim.control.start_replay("BTCUSDT", csv_path=str(CSV), speed=0, start=datetime(2021, 5, 2, tzinfo=UTC))
    sim.control.advance("BTCUSDT", 1)
    acc = sim.control.create_account(funding={"USDT": str(FUNDING)})
    account = ExchangeAccountFactory(environment="paper", api_key=acc.api_key, api_secret=acc.api_secret)
    bot = BotFactory(
        user=account.user,
        exchange_account=account,
        investment=Decimal("1000"),
        config=grid_config(lower_price="55600", upper_price="58400", grid_count=14, investment="1000"),
    )
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.RUNNING, (bot.last_error, list(bot.events.values_list("message", flat=True)))
    for _ in range(0, 1440, 20):
        sim.control.advance("BTCUSDT", 20)
        bot_tick(bot_id=bot.pk)
    bot_tick(bot_id=bot.pk)

    ledger = sim.control.ledger(acc.uid)
    executions = sorted(
        (e for e in ledger["executions"] if e["orderLinkId"].startswith(f"sk{bot.pk}g")),
        key=lambda e: (int(e["execTime"]), e["execId"]),
    )
    row = BotMetrics.objects.get(bot=bot)
    # every fill once
    assert row.trade_count == len(executions) == Trade.objects.filter(bot=bot).count()
    assert row.last_trade_id == Trade.objects.filter(bot=bot).order_by("-id").values_list("id", flat=True)[0]

    # total PnL == change of the wallet's value, at one price, to the last unit
    price = sim.control.price("BTCUSDT")
    metrics_update_price(bot=bot, price=price)
    row.refresh_from_db()
    balances = ledger["balances"]

    def amount(coin):
        entry = balances.get(coin, 0)
        return Decimal(str(entry.get("total", entry.get("walletBalance", 0)) if isinstance(entry, dict) else entry))

    wallet_pnl = amount("USDT") + amount("BTC") * price - FUNDING
    print("ledger check:", len(executions), "fills, wallet pnl", wallet_pnl, "balances", balances)
    assert row.realized_pnl + row.unrealized_pnl == wallet_pnl
    assert row.base_position == amount("BTC")

    # grid profit and cycles == an independent exact pairing over the exchange's executions
    cycles, profit = independent_grid_profit(executions, base_coin="BTC")
    assert cycles >= 3, "the day should complete a few cycles"
    assert row.cycle_count == cycles == Cycle.objects.filter(bot=bot).count()
    assert abs(Fraction(row.grid_profit) - profit) < Fraction(1, 10**15)
    assert row.grid_profit > 0
    print("cycles", cycles, "grid profit", row.grid_profit, "realized", row.realized_pnl, "unrealized", row.unrealized_pnl)
    # fees: every execution's fee, base fees valued at their fill price
    fees = sum(
        Decimal(e["execFee"]) * (Decimal(e["execPrice"]) if e.get("feeCurrency") == "BTC" else 1) for e in executions
    )
    assert row.fees_quote == fees
    # and the periodic full recomputation agrees with the incremental figures
    assert metrics_reconcile(bot=bot) == ""
