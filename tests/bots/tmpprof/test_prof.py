import time
from collections import defaultdict
from bots.models import Bot
from bots.services import bot_start, bot_tick
from tests.factories import BotFactory, grid_config
from tests.bots.conftest import sim, sim_settings, paper  # noqa

T = defaultdict(float)

def wrap(mod, name):
    f = getattr(mod, name)
    def g(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            T[name] += time.perf_counter() - t
    setattr(mod, name, g)


def test_prof(paper, sim, monkeypatch):
    import bots.services.reconcile as rc, bots.services.place as pl, bots.services.tick as tk, trading.services as ts
    from exchanges.adapters import bybit
    account, acc = paper
    bot = BotFactory(user=account.user, exchange_account=account, config=grid_config())
    bot_start(bot=bot)
    bot_tick(bot_id=bot.pk)
    for mod, names in [(rc, ["orders_reconcile", "metrics_total_pnl", "grid_state_load", "grid_state_sync"]), (tk, ["tick_reconcile", "tick_place", "tick_decide", "client_for_bot"]), (pl, ["orders_send_pending", "fills_store", "grid_state_save", "order_write_pending"]), (ts, ["fills_fetch", "fills_store"])]:
        for n in names:
            wrap(mod, n)
    B = bybit.BybitClient
    for n in ["_request", "ticker", "open_orders", "fills", "place_orders", "place_order"]:
        if hasattr(B, n):
            orig = getattr(B, n)
            def mk(orig, n):
                def g(self, *a, **k):
                    t = time.perf_counter()
                    try: return orig(self, *a, **k)
                    finally: T["B." + n] += time.perf_counter() - t
                return g
            monkeypatch.setattr(B, n, mk(orig, n))
    times = []
    for p in ["53900", "55000", "56100", "55000"] * 3:
        sim.control.set_price("BTCUSDT", p)
        t = time.perf_counter()
        r = bot_tick(bot_id=bot.pk, urgent=True)
        times.append((round((time.perf_counter() - t)*1000), r.new_trades, r.placed))
    print(times)
    for k, v in sorted(T.items(), key=lambda kv: -kv[1]):
        print(f"{k:30s} {v*1000/12:7.1f} ms/tick")
