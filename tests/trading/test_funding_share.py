"""A bot's share of a funding settlement charged on the account's position of a symbol."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from exchanges.client import FundingPayment
from trading.funding import funding_share


def settlement(amount: str, rate: str, qty: str = "0.02") -> FundingPayment:
    return FundingPayment(
        venue_id="x",
        symbol="BTCUSDT",
        amount=D(amount),
        coin="USDT",
        rate=D(rate),
        position_qty=D(qty),
        mark_price=D("51000"),
        paid_at=datetime(2026, 1, 1, 8, tzinfo=UTC),
    )


def test_the_bot_holding_the_whole_position_gets_the_venues_amount_to_the_unit():
    assert funding_share(settlement("-0.102", "0.0001"), D("0.02")) == D("-0.102")  # a long paid
    assert funding_share(settlement("0.102", "0.0001"), D("-0.02")) == D("0.102")  # a short received
    assert funding_share(settlement("0.102", "-0.0001"), D("0.02")) == D("0.102")  # a long received


def test_a_flat_bot_gets_nothing_and_a_part_of_the_position_its_part():
    assert funding_share(settlement("-0.102", "0.0001"), D("0")) == 0
    assert funding_share(settlement("-0.102", "0.0001"), D("0.005")) == D("-0.0255")
    # two bots netted on one account (one-way mode): the short bot receives what its short earns
    assert funding_share(settlement("-0.102", "0.0001"), D("-0.01")) == D("0.051")
