"""Reads of exchange accounts. Every query is scoped to the requesting user: another user's
account is simply not found (404), never forbidden."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.http import Http404

from exchanges.models import ExchangeAccount


def venue_annotations(account: str) -> dict:
    """The venue's code and display name read through `account` (the path of an exchange account
    field, e.g. "bot__exchange_account"), as annotations: one join, and the account row itself is
    never loaded (that would decrypt its API keys)."""
    return {"venue_code": F(f"{account}__exchange__code"), "venue_name": F(f"{account}__exchange__name")}


def venue_lookup(obj, **where) -> tuple[str, str]:
    """(code, name) of a row's venue: its `venue_code`/`venue_name` annotations when it was read
    with them, else one query on Exchange filtered by `where` (a single row, never a list)."""
    code = getattr(obj, "venue_code", None)
    if code is not None:
        return code, obj.venue_name
    from exchanges.models import Exchange

    row = Exchange.objects.filter(**where).values_list("code", "name").first()
    code, name = row or ("", "")
    obj.venue_code, obj.venue_name = code, name
    return code, name


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
