"""Order and trade reads."""

from __future__ import annotations

from django.db.models import QuerySet

from trading.models import Order, Trade


def order_list(*, bot, state: str = "all") -> QuerySet[Order]:
    qs = Order.objects.filter(bot=bot)
    if state == "active":
        qs = qs.filter(status__in=Order.OPEN_STATUSES)
    elif state == "cancelled":
        qs = qs.filter(status=Order.Status.CANCELLED)
    return qs.order_by("-id")


def user_trades(*, user) -> QuerySet[Trade]:
    """Every fill of the user, each with its venue (`venue_code`, `venue_name`) from the same query."""
    from exchanges.selectors import venue_annotations

    return Trade.objects.filter(user=user).annotate(**venue_annotations("bot__exchange_account"))


def trade_list(*, user, bot=None, symbol: str | None = None) -> QuerySet[Trade]:
    qs = user_trades(user=user)
    if bot is not None:
        qs = qs.filter(bot=bot)
    if symbol:
        qs = qs.filter(symbol=symbol)
    return qs.order_by("-executed_at", "-id")


def bot_open_order_count(*, bot) -> int:
    return Order.objects.filter(bot=bot, status__in=Order.OPEN_STATUSES).count()
