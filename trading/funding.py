"""Funding settlements of linear bots: fetched from the exchange port after the bot's fills,
stored once per bot and venue id (FundingPayment), and folded into the one profit book
(metrics_apply_funding, told through trading.signals.funding_stored) in the same transaction, so a retried or crashed tick never counts a
settlement twice and the bot page's total PnL includes funding.

A settlement is charged on the account's position of the symbol. The bot's share is the part of
that position the bot held at the settlement time (its stored fills up to then): all of it when
the bot is the only one trading the symbol on the account (the usual case, the venue's amount
to the last unit), nothing when it held no position, pro rata otherwise."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from bots.engine.book import q18
from exchanges.client import Category, ExchangeClient, FundingPayment
from exchanges.errors import NotSupported
from trading.models import FundingPayment as FundingRow
from trading.models import Trade
from trading.signals import funding_stored

if TYPE_CHECKING:
    from bots.models import Bot

logger = logging.getLogger(__name__)

FUNDING_OVERLAP = timedelta(minutes=10)  # re-read a little before the cursor: rows can show up late
MAX_PAGES = 20
ZERO = Decimal(0)


def funding_share(payment: FundingPayment, bot_position: Decimal) -> Decimal:
    """The bot's part of a settlement given its signed position at that time: the whole amount
    when it held the account's whole position, 0 when flat, else amount × its share of the
    account's signed position (whose sign is the one that makes amount = -position × mark × rate)."""
    if not bot_position or not payment.amount or not payment.position_qty:
        return ZERO
    paid_by_long = (payment.amount < 0) == (payment.rate > 0)
    account_position = payment.position_qty if paid_by_long else -payment.position_qty
    if bot_position == account_position:
        return payment.amount
    return q18(payment.amount * bot_position / account_position)


def _position_at(bot: Bot, when: datetime) -> Decimal:
    """The bot's signed position from its stored fills up to `when` (every run: one book)."""
    totals = Trade.objects.filter(bot=bot, executed_at__lte=when).aggregate(
        bought=Sum("qty", filter=Q(side="Buy")), sold=Sum("qty", filter=Q(side="Sell"))
    )
    return (totals["bought"] or ZERO) - (totals["sold"] or ZERO)


def funding_fetch(*, bot: Bot, client: ExchangeClient) -> list[FundingPayment]:
    """Settlements of the bot's symbol since the stored cursor (with an overlap; known ones are
    dropped on store). Empty for spot bots and on venues whose adapter cannot tell (NotSupported)."""
    if bot.category != Category.LINEAR:
        return []
    since = bot.funding_seen_until or bot.started_at
    if since is not None:
        since -= FUNDING_OVERLAP
    out: list[FundingPayment] = []
    cursor = None
    try:
        for _ in range(MAX_PAGES):
            page = client.funding_payments(category=Category.LINEAR, symbol=bot.symbol, since=since, cursor=cursor)
            out.extend(p for p in page.payments if p.symbol in ("", bot.symbol))
            cursor = page.next_cursor
            if not cursor:
                break
    except NotSupported:
        return []
    if bot.started_at is not None:
        out = [p for p in out if p.paid_at >= bot.started_at]  # before this run: not this run's position
    return out


def funding_store(*, bot: Bot, payments: list[FundingPayment]) -> list[FundingRow]:
    """Store the bot's share of each new settlement exactly once, move the cursor
    (Bot.funding_seen_until) and fold the new rows into the profit book, in one transaction
    with the bot row locked. Returns the new rows."""
    if not payments:
        return []
    ordered = sorted(payments, key=lambda p: (p.paid_at, p.venue_id))
    new: list[FundingRow] = []
    with transaction.atomic():
        bots = type(bot).objects  # the Bot model (trading sits below bots and does not import it)
        locked = bots.select_for_update().get(pk=bot.pk)
        known = set(
            FundingRow.objects.filter(bot=locked, venue_id__in=[p.venue_id for p in ordered]).values_list(
                "venue_id", flat=True
            )
        )
        for payment in ordered:
            if payment.venue_id in known:
                continue
            share = funding_share(payment, _position_at(locked, payment.paid_at))
            if not share:
                continue  # the bot held none of that position
            try:
                with transaction.atomic():
                    row = FundingRow.objects.create(
                        bot=locked,
                        user_id=locked.user_id,
                        symbol=payment.symbol or locked.symbol,
                        venue_id=payment.venue_id,
                        amount=share,
                        venue_amount=payment.amount,
                        coin=payment.coin,
                        rate=payment.rate,
                        position_qty=payment.position_qty,
                        mark_price=payment.mark_price,
                        paid_at=payment.paid_at,
                    )
            except IntegrityError:  # stored meanwhile by another tick: exactly once still holds
                continue
            known.add(payment.venue_id)
            new.append(row)
        latest = max(p.paid_at for p in ordered)
        if locked.funding_seen_until is None or latest > locked.funding_seen_until:
            bots.filter(pk=locked.pk).update(funding_seen_until=latest)
            bot.funding_seen_until = latest
        if new:
            funding_stored.send(sender=FundingRow, bot=locked, payments=new)  # metrics folds them
    return new
