"""The trade study over a bot's books and the portfolio, through the MCP tools."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from metrics.models import BotMetrics, Cycle, MetricSnapshot
from tests.factories import BotFactory, OrderFactory, TradeFactory

from .test_tools import _error, _payload, _session

pytestmark = pytest.mark.django_db


@pytest.fixture
def traded_bot(pro_user, draft_bot):
    BotMetrics.objects.create(
        bot=draft_bot,
        invested=Decimal(1000),
        grid_profit=Decimal("12.5"),
        realized_pnl=Decimal("10"),
        unrealized_pnl=Decimal("-30"),
        fees_quote=Decimal("3.2"),
    )
    now = timezone.now().replace(hour=9, minute=0)
    for i in range(3):
        order = OrderFactory(bot=draft_bot, user=pro_user)
        TradeFactory(bot=draft_bot, order=order, user=pro_user, executed_at=now + timedelta(minutes=i))
        Cycle.objects.create(
            bot=draft_bot, order=order, level=4, profit=Decimal("1.5"), closed_at=now + timedelta(minutes=10 * i)
        )
    for i, price in enumerate(("55000", "49000", "48000", "52000", "61200", "58000")):  # range 50000..60000
        MetricSnapshot.objects.create(
            bot=draft_bot,
            taken_at=now + timedelta(hours=i),
            price=Decimal(price),
            equity=Decimal(1000),
            grid_profit=Decimal(0),
            total_pnl=Decimal(0),
        )
    return draft_bot


def test_bot_study(pro_user, traded_bot, others_bot):
    from mcp_server.services import access_token_create

    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)

    async def calls(c):
        return await c.call_tool("get_bot_study", {"bot_id": traded_bot.pk}), await c.call_tool(
            "get_bot_study", {"bot_id": others_bot.pk}
        )

    mine, theirs = _session(token, calls)
    study = _payload(mine)
    assert study["attribution"] == {"grid": "12.5", "inventory": "-32.5", "fees": "3.2", "funding": "0", "total": "-20"}
    assert study["fills_per_hour"][9] == 3 and sum(study["fills_per_hour"]) == 3
    assert study["cycles_per_level"] == [{"level": 4, "cycles": 3, "profit": "4.5"}]
    assert study["cycle_cadence"]["median_minutes"] == 10.0
    assert study["range"]["exits"] == 2 and study["range"]["outside_share"] == 0.5
    assert study["range"]["max_below_percent"] == 4.0 and study["range"]["max_above_percent"] == 2.0
    assert any("inventory -32.5" in f for f in study["facts"])
    assert "[not_found]" in _error(theirs)


def test_portfolio_and_regime(pro_user, traded_bot, account):
    BotFactory(user=pro_user, exchange_account=account, symbol="ETHUSDT", investment=Decimal(3000))
    from mcp_server.services import access_token_create

    _, token = access_token_create(user=pro_user, name="agent", scope="read", days=30)

    async def calls(c):
        return await c.call_tool("get_portfolio", {}), await c.call_tool("get_market_regime", {"symbol": "btcusdt"})

    folio, regime = _session(token, calls)
    folio = _payload(folio)
    assert folio["capital"] == "4000" and folio["profit"] == "-20"
    assert folio["largest_symbol"] == "ETHUSDT" and folio["largest_symbol_share"] == 0.75
    regime = _payload(regime)
    assert regime["label"] in ("range", "trending", "mixed") and regime["hours"] == 24


def test_study_over_rest(pro_user, traded_bot, others_bot, user_client):
    study = user_client.get(f"/api/mcp/study/bots/{traded_bot.pk}/")
    assert study.status_code == 200 and study.json()["attribution"]["grid"] == "12.5"
    assert study.json()["summary"]["source"] == "facts"
    assert user_client.get(f"/api/mcp/study/bots/{others_bot.pk}/").status_code == 404
    assert user_client.get("/api/mcp/study/portfolio/").json()["capital"] == "1000"
