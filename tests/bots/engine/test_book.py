"""The profit book (bots/engine/book.py): hand-computed cases, the persisted round trip, and
properties over random fill sequences (incremental == one fold; cash identity)."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.engine.book import BookFill, ProfitBook, q18


def spot() -> ProfitBook:
    return ProfitBook(category="spot", base_coin="BTC", quote_coin="USDT", invested=D("1000"))


def f(side, price, qty, fee, coin, level, purpose="grid", trade_id=0) -> BookFill:
    return BookFill(side, D(price), D(qty), D(fee), coin, level, purpose, trade_id)


def test_spot_cycle_with_base_fee_on_the_buy_and_quote_fee_on_the_sell():
    book = spot()
    # Buy 0.01 at 50,000 (line 2), fee 0.00001 BTC: 0.00999 BTC for 500 USDT.
    assert book.apply(f("Buy", "50000", "0.01", "0.00001", "BTC", 2)).realized_pnl == 0
    assert book.base_position == D("0.00999") and book.cost_basis == D("500")
    assert book.quote_balance == D("500")
    # Sell 0.00999 at 51,000 (line 3): 509.49 − 0.50949 − 500 = 8.98051, a completed cycle.
    result = book.apply(f("Sell", "51000", "0.00999", "0.50949", "USDT", 3))
    assert result.realized_pnl == D("8.98051") and result.closes_cycle
    assert book.grid_profit == book.realized_pnl == D("8.98051")
    assert book.base_position == 0 and book.cost_basis == 0 and book.lots == {}
    assert book.fees_quote == D("1.00949")  # 0.00001 × 50,000 + 0.50949
    assert book.fees == {"BTC": D("0.00001"), "USDT": D("0.50949")}
    assert book.total_pnl(D("1")) == D("8.98051")


def test_sell_pairs_with_the_line_below_first_then_the_initial_position():
    book = spot()
    book.apply(f("Buy", "54000", "0.02", "0", "BTC", None, "initial"))  # init lot: 0.02 for 1080
    book.apply(f("Buy", "49000", "0.01", "0", "BTC", 1))  # line-1 lot: 0.01 for 490
    # A sell at line 2 takes the line-1 lot (not the older initial one): 500 − 490 = 10, a cycle.
    r = book.apply(f("Sell", "50000", "0.01", "0", "USDT", 2))
    assert r.closes_cycle and r.realized_pnl == D("10")
    # A sell at line 5 finds nothing at line 4: the initial position (not a cycle).
    r = book.apply(f("Sell", "57000", "0.01", "0", "USDT", 5))
    assert not r.closes_cycle and r.realized_pnl == D("570") - D("540")
    assert book.grid_profit == D("10") and book.realized_pnl == D("40")
    assert book.unrealized(D("60000")) == D("600") - D("540")


def test_partial_sells_split_the_lot_cost_pro_rata():
    book = spot()
    book.apply(f("Buy", "50000", "0.01", "0.00001", "BTC", 2))
    a = book.apply(f("Sell", "51000", "0.005", "0.255", "USDT", 3))
    b = book.apply(f("Sell", "51000", "0.00499", "0.25449", "USDT", 3))
    assert a.realized_pnl == D("4.494749749749749750")
    assert b.realized_pnl == D("4.485760250250250250")
    assert a.realized_pnl + b.realized_pnl == D("8.98051")


def test_a_fee_in_a_third_coin_moves_neither_base_nor_cash():
    book = spot()
    book.apply(f("Buy", "50000", "0.01", "0.3", "MNT", 2))
    assert book.base_position == D("0.01") and book.quote_balance == D("500")
    assert book.fees == {"MNT": D("0.3")} and book.fees_quote == 0


def test_linear_average_entry_fees_and_funding():
    book = ProfitBook(category="linear", base_coin="BTC", quote_coin="USDT", invested=D("1000"))
    book.apply(f("Buy", "50000", "0.01", "0.275", "USDT", 2))
    book.apply(f("Buy", "49000", "0.01", "0.2695", "USDT", 1))
    r = book.apply(f("Sell", "51000", "0.01", "0.2805", "USDT", 3))
    # Entry 49,500: 0.01 × 1,500 − 0.2805 − half of the open fees 0.5445.
    assert r.realized_pnl == D("15") - D("0.2805") - D("0.27225") and r.closes_cycle
    assert book.grid_profit == r.realized_pnl
    assert book.unrealized(D("50000")) == D("5") - D("0.27225")
    book.apply_funding(D("-0.4"))
    assert book.funding == D("-0.4")
    assert book.total_pnl(D("50000")) == r.realized_pnl + D("5") - D("0.27225") - D("0.4")
    assert book.grid_profit == r.realized_pnl  # funding is never grid profit


def test_funding_worked_example_a_long_pays_and_a_short_receives_to_the_cent():
    """Both opened at 50,000 as takers (0.055 %); funding settles at mark 51,000 with rate
    +0.01 %: the long pays 0.02 × 51,000 × 0.0001 = 0.102, the short receives 0.01 × 51,000 ×
    0.0001 = 0.051. Funding moves total PnL and cash, never grid profit or realized PnL."""
    long = ProfitBook(category="linear", base_coin="BTC", quote_coin="USDT", invested=D("1000"))
    long.apply(f("Buy", "50000", "0.02", "0.55", "USDT", 2))
    long.apply_funding(D("-0.102"))
    assert long.funding == D("-0.102") and long.realized_pnl == 0
    # inventory at 51,000: 0.02 × 1,000 − the opening fee 0.55 = 19.45; total 19.45 − 0.102
    assert long.unrealized(D("51000")) == D("19.45")
    assert long.total_pnl(D("51000")) == D("19.348")
    assert long.total_pnl(D("51000")).quantize(D("0.01")) == D("19.35")
    # the grid sells it at 51,000 (fee 0.561): realized 20 − 0.561 − 0.55 = 18.889, all grid profit
    r = long.apply(f("Sell", "51000", "0.02", "0.561", "USDT", 3))
    assert r.realized_pnl == D("18.889") and long.grid_profit == D("18.889")
    assert long.total_pnl(D("51000")) == D("18.787")  # 18.889 − 0.102
    assert long.quote_balance == D("1018.787")  # the wallet: invested + realized + funding
    assert ProfitBook.from_json(long.to_json()).funding == D("-0.102")

    short = ProfitBook(category="linear", base_coin="BTC", quote_coin="USDT", invested=D("1000"))
    short.apply(f("Sell", "50000", "0.01", "0.275", "USDT", 3))
    short.apply_funding(D("0.051"))
    # inventory at 51,000: −0.01 × 1,000 − 0.275 = −10.275; total −10.275 + 0.051 = −10.224
    assert short.unrealized(D("51000")) == D("-10.275")
    assert short.total_pnl(D("51000")) == D("-10.224")
    assert short.total_pnl(D("51000")).quantize(D("0.01")) == D("-10.22")
    assert short.grid_profit == 0 and short.funding == D("0.051")


def test_linear_flip_through_zero_opens_the_rest_at_the_fill_price():
    book = ProfitBook(category="linear", base_coin="BTC", quote_coin="USDT", invested=D("1000"))
    book.apply(f("Buy", "100", "1", "0", "USDT", 1))
    r = book.apply(f("Sell", "110", "3", "0.3", "USDT", None, "close"))
    assert r.realized_pnl == D("10") - D("0.1") and not r.closes_cycle
    assert book.base_position == D("-2") and book.entry_price == D("110") and book.open_fees == D("0.2")


def test_json_round_trip_is_exact():
    book = spot()
    book.apply(f("Buy", "50000", "0.01", "0.00001", "BTC", 2, trade_id=7))
    book.apply(f("Sell", "51000", "0.004", "0.2", "USDT", 3, trade_id=9))
    again = ProfitBook.from_json(book.to_json())
    assert again == book and again.last_trade_id == 9


# --- properties -------------------------------------------------------------------------------

LINES = [D(40000) + D(1000) * i for i in range(11)]


@st.composite
def fill_sequences(draw, category="spot"):
    out = []
    for _ in range(draw(st.integers(1, 40))):
        level = draw(st.integers(0, 10))
        side = draw(st.sampled_from(["Buy", "Sell"]))
        qty = D(draw(st.integers(1, 2000))) / D(100000)
        price = LINES[level] + D(draw(st.integers(-50, 50)))
        fee_coin = "USDT" if category == "linear" or side == "Sell" else draw(st.sampled_from(["BTC", "USDT"]))
        fee = q18(qty * D("0.001") * (1 if fee_coin == "BTC" else price))
        purpose = draw(st.sampled_from(["grid", "grid", "grid", "initial", "close"]))
        out.append(
            BookFill(side, price, qty, fee, fee_coin, level if purpose == "grid" else None, purpose, len(out) + 1)
        )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fills=fill_sequences(), cut=st.integers(0, 40), price=st.integers(30000, 60000))
def test_incremental_with_a_persisted_book_equals_one_fold(fills, cut, price):
    whole = spot()
    for x in fills:
        whole.apply(x)
    first = spot()
    for x in fills[:cut]:
        first.apply(x)
    resumed = ProfitBook.from_json(first.to_json())  # a restart between ticks
    for x in fills[cut:]:
        resumed.apply(x)
    assert resumed == whole
    assert resumed.total_pnl(D(price)) == whole.total_pnl(D(price))


@settings(max_examples=150, deadline=None)
@given(fills=fill_sequences(), price=st.integers(30000, 60000))
def test_spot_total_pnl_equals_the_change_in_cash_plus_base_at_the_price(fills, price):
    book = spot()
    cash, base, cycles = D("1000"), D(0), D(0)
    for x in fills:
        result = book.apply(x)
        cycles += result.realized_pnl if result.closes_cycle else 0
        fee_base = x.fee if x.fee_coin == "BTC" else D(0)
        fee_quote = x.fee if x.fee_coin == "USDT" else D(0)
        if x.side == "Buy":
            cash -= q18(x.qty * x.price) + fee_quote
            base += x.qty - fee_base
        else:
            cash += q18(x.qty * x.price) - fee_quote
            base -= x.qty + fee_base
    assert book.base_position == base and book.quote_balance == cash
    if _never_oversold(fills):
        # Identity of the book: realized + inventory = cash − invested + base × price.
        assert book.total_pnl(D(price)) == cash - D("1000") + q18(base * D(price))
    assert book.grid_profit == cycles  # grid profit is exactly the PnL of the completed cycles


def _never_oversold(fills) -> bool:
    held = D(0)
    for x in fills:
        fee_base = x.fee if x.fee_coin == "BTC" else D(0)
        held += (x.qty - fee_base) if x.side == "Buy" else -(x.qty + fee_base)
        if held < 0:
            return False
    return True
