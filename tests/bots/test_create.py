"""Creating bots: validation, the pre-launch report from the exchange, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from bots.models import Bot, BotEvent
from bots.services import bot_create, bot_delete, bot_preview
from config.errors import DomainError
from tests.factories import UserFactory, grid_config

pytestmark = pytest.mark.django_db


def create(account, accept=False, **config):
    return bot_create(
        user=account.user,
        exchange_account=account,
        name="My grid",
        symbol="BTCUSDT",
        category="spot",
        config=grid_config(**config),
        accept_warnings=accept,
    )


def test_a_sound_grid_is_created_as_draft_with_its_report(paper):
    account, _ = paper
    bot = create(account, accept=True)
    assert bot.status == Bot.Status.DRAFT
    assert len(bot.report["levels"]) == 11
    assert bot.report["blocking"] is False
    assert str(bot.investment) == "1000"
    assert BotEvent.objects.filter(bot=bot, kind="created").exists()


def test_preview_stores_nothing(paper):
    account, _ = paper
    report = bot_preview(
        user=account.user, exchange_account=account, symbol="BTCUSDT", category="spot", config=grid_config()
    )
    assert Decimal(report.to_json()["levels"][0]) == Decimal("50000")
    assert not Bot.objects.exists()


def test_blocking_report_is_refused_with_a_readable_reason(paper):
    account, _ = paper
    with pytest.raises(DomainError) as err:
        create(account, accept=True, investment="5")
    assert err.value.code == "report_blocking"
    assert "invest" in err.value.message.lower()
    assert not Bot.objects.exists()


def test_warnings_must_be_accepted(paper):
    account, _ = paper
    with pytest.raises(DomainError) as err:
        create(account, lower_price="60000", upper_price="70000")  # price 55,000 is below the range
    assert err.value.code == "warnings_not_accepted"
    bot = create(account, accept=True, lower_price="60000", upper_price="70000")
    assert bot.warnings_accepted_at is not None


def test_invalid_configuration_names_the_field(paper):
    account, _ = paper
    with pytest.raises(DomainError) as err:
        create(account, lower_price="70000", upper_price="60000")
    assert err.value.code == "invalid_config"
    assert err.value.fields


def test_no_trading_access_no_bot(paper):
    account, _ = paper
    account.user.access_granted_at = None
    account.user.save()
    with pytest.raises(DomainError) as err:
        create(account, accept=True)
    assert err.value.code == "no_access"


def test_someone_elses_account_is_not_found(paper):
    account, _ = paper
    with pytest.raises(DomainError) as err:
        bot_create(
            user=UserFactory(),
            exchange_account=account,
            name="x",
            symbol="BTCUSDT",
            category="spot",
            config=grid_config(),
            accept_warnings=True,
        )
    assert err.value.status_code == 404


def test_delete_only_when_not_running(paper):
    account, _ = paper
    bot = create(account, accept=True)
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.RUNNING, started_at=timezone.now())
    bot.refresh_from_db()
    with pytest.raises(DomainError):
        bot_delete(bot=bot, user=account.user)
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.STOPPED)
    bot.refresh_from_db()
    bot_delete(bot=bot, user=account.user)
    assert not Bot.objects.filter(pk=bot.pk).exists()
