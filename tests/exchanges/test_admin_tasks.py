"""Operators' side: the admin never decrypts or shows keys; the periodic re-check flags keys."""

from __future__ import annotations

import pytest
from django.test import Client

from exchanges.models import ExchangeAccount
from exchanges.tasks import exchange_account_recheck_task, exchange_accounts_recheck_task
from tests.factories import ExchangeAccountFactory, UserFactory

KEY, SECRET = "ADMINVISIBLEKEY123456", "ADMINSECRET987654321XYZ"


@pytest.fixture
def staff_client(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_shows_only_the_masked_hint_and_never_decrypts(staff_client, settings):
    settings.ENCRYPTION_KEYS = ["admin-key"]
    account = ExchangeAccountFactory(api_key=KEY, api_secret=SECRET)
    settings.ENCRYPTION_KEYS = ["a-different-key"]  # decrypting would raise: the pages must not try
    listing = staff_client.get("/admin/exchanges/exchangeaccount/?status__exact=active&environment__exact=paper")
    change = staff_client.get(f"/admin/exchanges/exchangeaccount/{account.pk}/change/")
    assert listing.status_code == 200 and change.status_code == 200
    assert "ADMI…3456" in listing.content.decode()
    for page in (listing, change):
        text = page.content.decode()
        assert KEY not in text and SECRET not in text and "gAAAA" not in text
        assert 'name="api_key"' not in text and 'name="api_secret"' not in text


def test_admin_recheck_action(staff_client, paper_settings, simulator):
    created = simulator.control.create_account(funding={"USDT": "50"})
    owner = UserFactory()
    account = ExchangeAccountFactory(
        user=owner,
        environment="paper",
        api_key=created.api_key,
        api_secret=created.api_secret,
        status=ExchangeAccount.Status.INVALID,
    )
    response = staff_client.post(
        "/admin/exchanges/exchangeaccount/", {"action": "recheck_keys", "_selected_action": [account.pk]}, follow=True
    )
    assert response.status_code == 200 and "Re-checked 1 account" in response.content.decode()
    account.refresh_from_db()
    assert account.status == ExchangeAccount.Status.ACTIVE and account.balances == {"USDT": "50"}


def test_periodic_recheck_flags_a_deleted_key(paper_settings, db):
    account = ExchangeAccountFactory(environment="paper", api_key="DELETEDKEY00000", api_secret="x" * 20)
    result = exchange_accounts_recheck_task.apply().get()
    account.refresh_from_db()
    assert account.status == ExchangeAccount.Status.REVOKED and "Re-bind" in account.status_reason
    assert result == {"revoked": 1}
    assert exchange_account_recheck_task.apply(args=[account.pk]).get() == "revoked"
    assert exchange_account_recheck_task.apply(args=[987654]).get() is None


def test_periodic_task_name_matches_the_beat_schedule():
    from exchanges.tasks import PERIODIC_TASKS

    assert exchange_accounts_recheck_task.name in PERIODIC_TASKS
    assert exchange_accounts_recheck_task.name == "exchanges.tasks.exchange_accounts_recheck_task"


def test_recheck_command_reports_each_account(paper_settings, simulator, db):
    import io

    from django.core.management import call_command

    created = simulator.control.create_account(funding={"USDT": "5"})
    good = ExchangeAccountFactory(environment="paper", api_key=created.api_key, api_secret=created.api_secret)
    gone = ExchangeAccountFactory(environment="paper", api_key="GONEKEY000000000", api_secret="y" * 20)
    out = io.StringIO()
    call_command("recheck_exchange_accounts", str(good.pk), str(gone.pk), stdout=out)
    assert f"#{good.pk} {good.label}: active" in out.getvalue()
    assert f"#{gone.pk} {gone.label}: revoked" in out.getvalue()
    assert created.api_secret not in out.getvalue()
