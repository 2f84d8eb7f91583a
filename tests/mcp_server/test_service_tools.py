"""The MCP tools over the remaining services, through the SDK's in-memory client: backtests
(plan quota, own results only), the screener with its explanations, the troubleshooter, and
support tickets (from a bot with its snapshot; other users' tickets and bots are not found)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics.management.commands.analytics_import_shipped import DATA, FILES, RULES
from analytics.models import Backtest
from analytics.services import backtest_run, candles_upsert, read_shipped_csv, screener_refresh, series_ensure
from billing.models import Plan
from mcp_server.models import AuditEntry
from mcp_server.services import access_token_create
from support.models import Ticket
from tests.analytics.conftest import SPOT_FEES, rules
from tests.analytics.synthetic import bars

from .test_tools import _error, _payload, _session

pytestmark = pytest.mark.django_db

CONFIG = {
    "strategy": "spot_grid",
    "lower_price": "52000",
    "upper_price": "58000",
    "grid_count": 30,
    "spacing": "arithmetic",
    "investment": "1000",
}


@pytest.fixture
def btc(db):
    series = series_ensure(venue="bybit", rules=RULES[0])
    candles_upsert(series=series, bars=read_shipped_csv(DATA / FILES["BTCUSDT"])[: 2 * 1440])
    series.refresh_from_db()
    return series


def _token(user, scope="read"):
    return access_token_create(user=user, name="agent", scope=scope, days=30)[1]


def test_run_a_backtest_then_read_its_stored_result(pro_user, pro_other, btc):
    start = btc.first_time.isoformat()
    end = (btc.first_time + timedelta(days=2)).isoformat()

    async def queue(c):
        return await c.call_tool(
            "run_backtest", {"series_id": btc.pk, "config": CONFIG, "period_start": start, "period_end": end}
        )

    queued = _payload(_session(_token(pro_user), queue))
    assert queued["status"] == "queued" and queued["series"]["symbol"] == "BTCUSDT"
    backtest_run(backtest_id=queued["id"])  # what the worker does

    async def read(c):
        return await c.call_tool("get_backtest", {"backtest_id": queued["id"]})

    done = _payload(_session(_token(pro_user), read))
    assert done["status"] == "done" and done["summary"]["cycles"] > 0
    wf = done["result"]["walk_forward"]
    assert wf["in_sample"]["candles"] + wf["out_of_sample"]["candles"] == 2 * 1440
    assert "fills" not in done["result"]
    assert "[not_found]" in _error(_session(_token(pro_other), read))


def test_a_backtest_respects_the_plans_daily_quota_and_bad_input_is_refused_in_words(pro_user, btc):
    Plan.objects.filter(code="pro").update(backtests_per_day=1)

    async def calls(c):
        first = await c.call_tool("run_backtest", {"series_id": btc.pk, "config": CONFIG})
        second = await c.call_tool("run_backtest", {"series_id": btc.pk, "config": CONFIG})
        bad = await c.call_tool("run_backtest", {"series_id": btc.pk, "config": {**CONFIG, "lower_price": "60000"}})
        nowhere = await c.call_tool("run_backtest", {"series_id": 99999999, "config": CONFIG})
        dates = await c.call_tool("run_backtest", {"series_id": btc.pk, "config": CONFIG, "period_end": "soon"})
        return first, second, bad, nowhere, dates

    first, second, bad, nowhere, dates = _session(_token(pro_user), calls)
    assert _payload(first)["status"] == "queued"
    assert "[plan_limit_backtests]" in _error(second) and "1 backtest" in _error(second)
    assert "[invalid_config]" in _error(bad)
    assert "[not_found]" in _error(nowhere)
    assert "[invalid]" in _error(dates) and "ISO" in _error(dates)
    assert Backtest.objects.filter(user=pro_user).count() == 1


@pytest.fixture
def markets(db):
    out = {}
    for n, (kind, venue) in enumerate((("trending", "bybit"), ("mean_reverting", "bybit"), ("random_walk", "okx"))):
        series = series_ensure(
            venue=venue, rules=rules(f"{kind.upper().replace('_', '')}USDT"), fees=SPOT_FEES, source="synthetic"
        )
        candles_upsert(series=series, bars=bars(kind, 3 * 1440, seed=100 + n))
        out[kind] = series
    screener_refresh()
    return out


def test_the_screener_ranks_filters_and_explains_in_the_users_language(pro_user, markets):
    async def calls(c):
        return (
            await c.call_tool("get_screener", {}),
            await c.call_tool("get_screener", {"venue": "okx"}),
            await c.call_tool("get_screener", {"sort": "symbol"}),
            await c.call_tool("get_screener", {"sort": "drop table"}),
        )

    ranked, okx, by_symbol, bad = _session(_token(pro_user), calls)
    body = _payload(ranked)
    assert [r["series"]["symbol"] for r in body["rows"]][0] == "MEANREVERTINGUSDT"
    assert body["rows"][-1]["series"]["symbol"] == "TRENDINGUSDT"
    assert body["rows"][0]["factors"]["variance_ratio"] < 1 and body["rows"][0]["suggestion"]["grid_count"]
    assert "back and forth" in body["explain"]["efficiency_ratio"]  # pro_user reads English
    assert [r["series"]["symbol"] for r in _payload(okx)["rows"]] == ["RANDOMWALKUSDT"]
    symbols = [r["series"]["symbol"] for r in _payload(by_symbol)["rows"]]
    assert symbols == sorted(symbols)
    assert "[invalid]" in _error(bad)

    pro_user.language = "ru"
    pro_user.save(update_fields=["language"])
    assert (
        "туда-обратно"
        in _payload(_session(_token(pro_user), lambda c: c.call_tool("get_screener", {})))["explain"][
            "efficiency_ratio"
        ]
    )


def test_the_troubleshooter_says_why_my_bot_is_not_trading(pro_user, draft_bot, others_bot):
    async def calls(c):
        return (
            await c.call_tool("troubleshoot_bot", {"bot_id": draft_bot.pk}),
            await c.call_tool("troubleshoot_bot", {"bot_id": others_bot.pk}),
        )

    mine, theirs = _session(_token(pro_user), calls)
    causes = _payload(mine)["causes"]
    assert "not_started" in [c["cause"] for c in causes]
    assert all(c["title"] for c in causes)
    assert "[not_found]" in _error(theirs)


def test_tickets_open_from_a_bot_read_and_reply_and_others_are_not_found(pro_user, pro_other, draft_bot, others_bot):
    theirs = Ticket.objects.create(user=pro_other, subject="Theirs", queue="billing", language="en")

    async def calls(c):
        opened = await c.call_tool(
            "open_ticket", {"subject": "Bot idle", "body": "It does not trade.", "bot_id": draft_bot.pk}
        )
        ticket_id = _payload(opened)["id"]
        return (
            opened,
            await c.call_tool("reply_ticket", {"ticket_id": ticket_id, "body": "Still idle."}),
            await c.call_tool("list_tickets", {}),
            await c.call_tool("get_ticket", {"ticket_id": ticket_id}),
            await c.call_tool("get_ticket", {"ticket_id": theirs.pk}),
            await c.call_tool("reply_ticket", {"ticket_id": theirs.pk, "body": "hi"}),
            await c.call_tool("open_ticket", {"subject": "x", "body": "y", "bot_id": others_bot.pk}),
            await c.call_tool("open_ticket", {"subject": "  ", "body": "y"}),
        )

    opened, replied, listed, read, read_theirs, reply_theirs, from_theirs, blank = _session(_token(pro_user), calls)
    ticket = Ticket.objects.get(pk=_payload(opened)["id"])
    assert ticket.user == pro_user and ticket.bot == draft_bot and ticket.queue == "bots"
    assert ticket.diagnostics["bot"]["id"] == draft_bot.pk
    assert "api_secret" not in str(ticket.diagnostics) or "REDACTED" in str(ticket.diagnostics).upper()
    assert _payload(opened)["has_diagnostics"] is True
    assert [m["body"] for m in _payload(replied)["messages"]] == ["It does not trade.", "Still idle."]
    assert [t["id"] for t in _payload(listed)["tickets"]] == [ticket.pk]
    assert len(_payload(read)["messages"]) == 2
    for refused in (read_theirs, reply_theirs, from_theirs):
        assert "[not_found]" in _error(refused)
    assert "subject" in _error(blank).lower()
    assert theirs.messages.count() == 0
    assert Ticket.objects.filter(user=pro_user).count() == 1
    assert list(
        AuditEntry.objects.filter(user=pro_user, tool__in=("open_ticket", "reply_ticket"))
        .order_by("id")
        .values_list("tool", "outcome")
    ) == [
        ("open_ticket", "ok"),
        ("reply_ticket", "ok"),
        ("reply_ticket", "refused"),
        ("open_ticket", "refused"),
        ("open_ticket", "refused"),
    ]


def test_support_messages_are_rate_limited(pro_user):
    async def calls(c):
        return [await c.call_tool("open_ticket", {"subject": f"Q{i}", "body": "?"}) for i in range(11)]

    answers = _session(_token(pro_user), calls)
    assert all(not a.is_error for a in answers[:10])
    assert "[rate_limited]" in _error(answers[10])
    assert Ticket.objects.filter(user=pro_user).count() == 10
