"""Reads of exchange accounts. Every query is scoped to the requesting user: another user's
account is simply not found (404), never forbidden."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from exchanges.models import ExchangeAccount


def exchange_account_list(*, user) -> QuerySet[ExchangeAccount]:
    return ExchangeAccount.objects.filter(user=user).select_related("exchange").order_by("-created_at", "-pk")


def exchange_account_get(*, user, account_id) -> ExchangeAccount:
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        raise Http404 from None
    account = exchange_account_list(user=user).filter(pk=account_id).first()
    if account is None:
        raise Http404
    return account


def exchange_offered_list() -> list[dict]:
    """The venues the registry marks finished whose Exchange row is active, as the UI needs them."""
    from exchanges.models import Exchange
    from exchanges.venues import offered

    active = set(Exchange.objects.filter(is_active=True).values_list("code", flat=True))
    return [v.as_json() for v in offered() if v.code in active]
