"""Management commands: issue_access_code and setup_roles."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AccessGrant, User

pytestmark = pytest.mark.django_db


def test_issue_access_code_prints_a_working_code():
    boss = User.objects.create_superuser(email="boss@example.com", password="Long-enough-pass-1")
    out, err = StringIO(), StringIO()
    call_command("issue_access_code", "--email", "Guest@Example.com", "--expires-days", "7", stdout=out, stderr=err)
    code = out.getvalue().strip()
    grant = AccessGrant.objects.get(code=code)
    assert grant.issued_by == boss
    assert grant.issued_to_email == "guest@example.com"
    assert timedelta(days=6, hours=23) < grant.expires_at - timezone.now() <= timedelta(days=7)
    assert "guest@example.com" in err.getvalue()


def test_issue_access_code_refuses_bad_input():
    with pytest.raises(CommandError):
        call_command("issue_access_code", stdout=StringIO(), stderr=StringIO())  # no superuser yet
    User.objects.create_superuser(email="boss@example.com", password="Long-enough-pass-1")
    with pytest.raises(CommandError):
        call_command("issue_access_code", "--email", "not-an-email", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("issue_access_code", "--expires-days", "0", stdout=StringIO(), stderr=StringIO())
    assert not AccessGrant.objects.exists()


def test_setup_roles_command():
    out = StringIO()
    call_command("setup_roles", stdout=out)
    assert "group operator:" in out.getvalue() and "group support:" in out.getvalue()


def test_issue_access_code_can_email_it(settings):
    from accounts.models import OutboxMessage

    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
    User.objects.create_superuser(email="boss@example.com", password="Long-enough-pass-1")
    out = StringIO()
    call_command("issue_access_code", "--email", "guest@example.com", "--send", stdout=out, stderr=StringIO())
    message = OutboxMessage.objects.get(recipient="guest@example.com")
    assert out.getvalue().strip() in message.body
    with pytest.raises(CommandError):
        call_command("issue_access_code", "--send", stdout=StringIO(), stderr=StringIO())


def test_prune_auth_records_keeps_live_sessions():
    from accounts import services
    from accounts.models import RefreshToken
    from accounts.tokens import tokens_issue, tokens_refresh

    user = services.user_create(email="p@example.com", password="Long-enough-pass-1")
    live = tokens_issue(user=user)
    old = tokens_issue(user=user)
    RefreshToken.objects.filter(pk=old.refresh_row_id).update(
        revoked_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=30)
    )
    out = StringIO()
    call_command("prune_auth_records", stdout=out)
    assert "refresh_tokens: 1 deleted" in out.getvalue()
    assert not RefreshToken.objects.filter(pk=old.refresh_row_id).exists()
    _, rotated = tokens_refresh(raw_refresh=live.refresh)  # the live session still works
    assert rotated.refresh


def test_emails_are_unique_regardless_of_case_in_the_database():
    from django.db import IntegrityError, transaction

    User.objects.create(email="case@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="CASE@example.com")
