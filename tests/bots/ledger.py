"""Recompute a bot's cycles and grid profit from the simulator's own execution ledger."""

from __future__ import annotations

from decimal import Decimal

from bots.engine.ids import parse_client_order_id


def bot_executions(ledger: dict, bot) -> list[dict]:
    from bots.engine.ids import parse_client_order_id

    rows = [
        e for e in ledger["executions"] if (key := parse_client_order_id(e["orderLinkId"])) and key.bot_id == bot.pk
    ]
    # In the venue's execution order: its sequence (OKX's trade id, Bybit's seq) orders the
    # executions of one millisecond, never execId (a random UUID on the twin): a batch's items
    # filled at once, a buy and a sell, give a linear position another profit in another order.
    return sorted(rows, key=lambda e: (int(e["execTime"]), int(e["seq"])))


def _fee_coin(e: dict, bot) -> str:
    return e.get("feeCurrency") or (bot.instrument.get("quote_coin") or "USDT")


def metrics_cycles(ledger: dict, bot) -> tuple[int, Decimal]:
    """The metrics accounting fold over the exchange's executions (what the user sees)."""
    from bots.engine.book import BookFill
    from metrics.services import book_empty

    book = book_empty(bot=bot)
    closing_orders = set()
    order_ids: dict[str, int] = {}
    for n, e in enumerate(bot_executions(ledger, bot), start=1):
        key = parse_client_order_id(e["orderLinkId"])
        order_id = order_ids.setdefault(e["orderId"], len(order_ids) + 1)
        result = book.apply(
            BookFill(
                trade_id=n,
                side=e["side"],
                price=Decimal(e["execPrice"]),
                qty=Decimal(e["execQty"]),
                fee=Decimal(e["execFee"]),
                fee_coin=_fee_coin(e, bot),
                level=None if key is None else key.level,
                purpose="grid" if key is None else key.purpose,
            )
        )
        if result.closes_cycle:
            closing_orders.add(order_id)
    return len(closing_orders), book.grid_profit
