"""Single-use means single-use under concurrency: two people redeeming one code at the same
moment, and two refreshes of one token, each succeed exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts import services
from accounts.models import AccessGrant, RefreshToken, User
from accounts.tokens import TokenError, tokens_issue, tokens_refresh
from config.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)


def _race(fn, args_list):
    barrier = threading.Barrier(len(args_list))
    results = [None] * len(args_list)

    def run(i, args):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", fn(*args))
        except (DomainError, TokenError) as exc:
            results[i] = ("refused", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_one_code_two_redeemers_and_one_refresh_token_two_callers():
    operator = services.user_create(email="op@example.com", password="Long-enough-pass-1", is_staff=True)
    alice = services.user_create(email="alice@example.com", password="Long-enough-pass-1")
    bob = services.user_create(email="bob@example.com", password="Long-enough-pass-1")
    grant = services.access_grant_issue(operator=operator)

    results = _race(lambda user: services.access_grant_redeem(user=user, code=grant.code), [(alice,), (bob,)])
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    grant.refresh_from_db()
    winners = [u for u in User.objects.filter(pk__in=[alice.pk, bob.pk]) if u.has_trading_access]
    assert len(winners) == 1 and grant.redeemed_by == winners[0]
    assert AccessGrant.objects.filter(redeemed_by__isnull=False).count() == 1

    raw = tokens_issue(user=alice).refresh
    results = _race(lambda: tokens_refresh(raw_refresh=raw), [(), ()])
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert RefreshToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 1
