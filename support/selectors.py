"""Reads of the help desk: every ticket query is filtered by its owner."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from support.models import Article, Ticket, TicketMessage


def tickets_of(*, user) -> QuerySet[Ticket]:
    return Ticket.objects.filter(user=user).order_by("-last_message_at", "-id")


def ticket_of(*, user, ticket_id: int) -> Ticket | None:
    return Ticket.objects.filter(user=user, pk=ticket_id).first()


def ticket_thread(*, ticket: Ticket, staff: bool = False) -> QuerySet[TicketMessage]:
    """The messages of a ticket; internal notes only for staff."""
    rows = ticket.messages.prefetch_related("attachments").order_by("created_at", "id")
    return rows if staff else rows.filter(internal=False)


def attachment_of(*, user, attachment_id: int):
    from support.models import Attachment

    return (
        Attachment.objects.select_related("message__ticket")
        .filter(pk=attachment_id, message__ticket__user=user, message__internal=False)
        .first()
    )


def articles_search(*, query: str, language: str, limit: int = 20) -> list[Article]:
    """Knowledge-base search: PostgreSQL full text with the 'russian' (or 'english') config and
    rank; on SQLite (the quick start) a plain icontains on title, summary and body."""
    rows = Article.objects.filter(published=True, language=language)
    query = " ".join((query or "").split())[:200]
    if not query:
        return list(rows.order_by("title")[:limit])
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        config = "russian" if language == "ru" else "english"
        vector = SearchVector("title", weight="A", config=config) + SearchVector("summary", weight="B", config=config)
        vector += SearchVector("body", weight="C", config=config)
        search = SearchQuery(query, config=config, search_type="websearch")
        found: list[Article] = list(
            rows.annotate(rank=SearchRank(vector, search)).filter(rank__gt=0).order_by("-rank", "title")[:limit]
        )
        if found:
            return found
    words = [w for w in query.split() if len(w) > 2] or [query]
    match = Q()
    for word in words:
        match |= Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
    return list(rows.filter(match).order_by("title")[:limit])


def article_get(*, slug: str, language: str) -> Article | None:
    rows = Article.objects.filter(slug=slug, published=True)
    return rows.filter(language=language).first() or rows.order_by("language").first()
