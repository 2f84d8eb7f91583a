"""Bot reads for the services, tasks, streams and admin."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from bots.models import Bot, BotEvent

TICKED = (Bot.Status.STARTING, Bot.Status.RUNNING, Bot.Status.STOPPING)


def bot_ids_due_for_tick() -> list[tuple[int, int]]:
    """(bot id, exchange account id) of the active bots whose lease is free."""
    now = timezone.now()
    return list(
        Bot.objects.filter(status__in=TICKED)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("last_tick_at", "id")
        .values_list("id", "exchange_account_id")
    )


def bots_streamed() -> QuerySet[Bot]:
    """Bots whose exchange account's private stream must be held."""
    return Bot.objects.filter(status__in=TICKED).select_related("exchange_account__exchange")


def bot_list(*, user, status: str | None = None, symbol: str | None = None) -> QuerySet[Bot]:
    qs = Bot.objects.filter(user=user)
    if status:
        qs = qs.filter(status=status)
    if symbol:
        qs = qs.filter(symbol=symbol)
    return qs


def bot_get(*, user, bot_id: int) -> Bot | None:
    return Bot.objects.filter(user=user, pk=bot_id).select_related("exchange_account").first()


def bot_events(*, bot: Bot) -> QuerySet[BotEvent]:
    return BotEvent.objects.filter(bot=bot).order_by("-id")
