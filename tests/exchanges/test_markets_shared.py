"""A tick or an account pass builds a fresh ccxt client; the venue's markets are loaded once per
process and shared by the clients built after it (ccxt's set_markets_from_exchange), so a
second client's first order costs no instruments request, and both clients read the same rules."""

from __future__ import annotations

from exchanges.adapters import ccxt_adapter
from exchanges.client import Category
from tests.exchanges.conftest import make_venue_client

INSTRUMENTS = "/api/v5/public/instruments"


def test_a_second_client_reuses_the_markets_the_first_loaded(venue_simulators, monkeypatch):
    okx = venue_simulators["okx"]
    monkeypatch.setattr(ccxt_adapter, "_SHARED_MARKETS", {})
    account = okx.control.create_account(funding={"USDT": "1000"})
    before = okx.sim.requests_by_path[INSTRUMENTS]
    first = make_venue_client(okx, account).instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    loaded = okx.sim.requests_by_path[INSTRUMENTS] - before
    assert loaded >= 1
    second = make_venue_client(okx, account).instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    assert okx.sim.requests_by_path[INSTRUMENTS] - before == loaded  # nothing more asked
    assert second == first


def test_shared_markets_expire(venue_simulators, monkeypatch):
    okx = venue_simulators["okx"]
    monkeypatch.setattr(ccxt_adapter, "_SHARED_MARKETS", {})
    monkeypatch.setattr(ccxt_adapter, "MARKETS_TTL_SECONDS", 0.0)
    account = okx.control.create_account(funding={"USDT": "1000"})
    before = okx.sim.requests_by_path[INSTRUMENTS]
    make_venue_client(okx, account).instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    once = okx.sim.requests_by_path[INSTRUMENTS] - before
    make_venue_client(okx, account).instrument_rules(category=Category.SPOT, symbol="BTCUSDT")
    assert okx.sim.requests_by_path[INSTRUMENTS] - before == 2 * once
