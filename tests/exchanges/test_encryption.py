"""API keys at rest: encrypted with SETKA_ENCRYPTION_KEYS, rotation by command, a missing key
never lets a ciphertext through."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from exchanges import factory
from exchanges.fields import UndecryptableSecret
from exchanges.models import ExchangeAccount
from tests.factories import ExchangeAccountFactory

KEY = "PLAINKEYabcdefgh12345"
SECRET = "PLAINSECRETzyxwvut9876543210"


def raw_columns(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, api_secret FROM exchanges_exchangeaccount WHERE id = %s", [pk])
        return cursor.fetchone()


@pytest.fixture
def account(db, settings):
    settings.ENCRYPTION_KEYS = ["old-key"]
    return ExchangeAccountFactory(api_key=KEY, api_secret=SECRET)


def test_db_column_holds_no_plaintext(account):
    raw_key, raw_secret = raw_columns(account.pk)
    for raw in (raw_key, raw_secret):
        assert KEY not in raw and SECRET not in raw and raw.startswith("gAAAA")
    fresh = ExchangeAccount.objects.get(pk=account.pk)
    assert (fresh.api_key, fresh.api_secret) == (KEY, SECRET)


def test_loading_and_saving_a_row_does_not_decrypt(account, settings):
    settings.ENCRYPTION_KEYS = ["unrelated-key"]
    fresh = ExchangeAccount.objects.get(pk=account.pk)  # loads fine: listing/admin keep working
    fresh.label = "renamed"
    fresh.save()
    settings.ENCRYPTION_KEYS = ["old-key"]
    assert ExchangeAccount.objects.get(pk=account.pk).api_secret == SECRET


def test_documented_rotation_keeps_every_row_readable(account, settings):
    other = ExchangeAccountFactory(api_key="SECONDKEY0001", api_secret="SECONDSECRET0001")
    before = raw_columns(account.pk)
    settings.ENCRYPTION_KEYS = ["new-key", "old-key"]  # step 1: new key first
    out = __import__("io").StringIO()
    call_command("rotate_encryption_keys", stdout=out)  # step 2
    assert "Re-encrypted 2 exchange account(s)" in out.getvalue()
    assert KEY not in out.getvalue() and SECRET not in out.getvalue()
    assert raw_columns(account.pk) != before
    settings.ENCRYPTION_KEYS = ["new-key"]  # step 3: old key removed
    assert ExchangeAccount.objects.get(pk=account.pk).api_secret == SECRET
    assert ExchangeAccount.objects.get(pk=other.pk).api_key == "SECONDKEY0001"


def test_rotation_refuses_when_a_row_cannot_be_decrypted(account, settings):
    settings.ENCRYPTION_KEYS = ["other-key"]
    good = ExchangeAccountFactory(api_key="GOODKEY000001", api_secret="GOODSECRET0001")
    before = raw_columns(good.pk)
    settings.ENCRYPTION_KEYS = ["newest-key", "other-key"]
    with pytest.raises(CommandError) as info:
        call_command("rotate_encryption_keys")
    assert str(account.pk) in str(info.value) and "Nothing was changed" in str(info.value)
    assert raw_columns(good.pk) == before  # nothing half-rotated


def test_missing_key_raises_and_no_client_is_built(account, settings, monkeypatch):
    built = []
    monkeypatch.setattr(factory, "client_for_keys", lambda **kw: built.append(kw))
    settings.ENCRYPTION_KEYS = ["some-other-key"]
    fresh = ExchangeAccount.objects.get(pk=account.pk)
    with pytest.raises(UndecryptableSecret):
        fresh.api_key  # noqa: B018
    with pytest.raises(UndecryptableSecret):
        factory.client_for_account(fresh)
    assert built == []
    fresh.refresh_from_db()
    assert fresh.status == ExchangeAccount.Status.UNDECRYPTABLE and "decrypt" in fresh.status_reason
