"""The help desk as users and staff meet it: a ticket from a bot page carries the diagnostics,
staff reply in admin (an internal note never reaches the user), the reply reaches the user in
the app and by email, rating after close, attachments told by content, and no one sees
another user's ticket."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from accounts.models import OutboxMessage
from bots.models import Bot
from notifications.models import Delivery, Notification
from notifications.services import deliveries_send_due
from support.models import CannedReply, Ticket
from support.services import ticket_create, ticket_message_add, tickets_overdue
from tests.factories import BotFactory, UserFactory, grid_config

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def admin_form(ticket, **fields) -> dict:
    """The change form as the browser posts it (with the thread's inline management form)."""
    ids = list(ticket.messages.order_by("created_at", "id").values_list("pk", flat=True))
    form = {"status": ticket.status, "queue": ticket.queue, "assignee": "", "reply": "", "canned_reply": ""}
    form.update({"messages-TOTAL_FORMS": len(ids), "messages-INITIAL_FORMS": len(ids), "messages-MIN_NUM_FORMS": 0,
                 "messages-MAX_NUM_FORMS": 1000})  # fmt: skip
    for i, pk in enumerate(ids):
        form[f"messages-{i}-id"], form[f"messages-{i}-ticket"] = pk, ticket.pk
    form.update(fields)
    return {k: v for k, v in form.items() if v is not False}


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")
    client.force_login(user)
    client.user = user
    return client


def test_a_ticket_from_a_stopped_bot_carries_its_diagnostics_and_staff_reply_reaches_the_user(
    staff, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    user = UserFactory(language="ru")
    bot = BotFactory(user=user, config=grid_config(), status=Bot.Status.STOPPED, stop_code="auth_failed",
                     stop_reason="API key invalid")  # fmt: skip
    api = _client(user)
    response = api.post(
        "/api/support/tickets/",
        {"subject": "Бот не торгует", "body": "Бот остановился", "bot": bot.pk, "attachments": [io.BytesIO(PNG)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.queue == "bots" and ticket.status == "new" and ticket.plan_code == "free"
    assert ticket.diagnostics["bot"]["stop_reason"] == "The exchange no longer accepts the API key"
    assert ticket.first_response_due and ticket.resolution_due > ticket.first_response_due

    page = staff.get(f"/admin/support/ticket/{ticket.pk}/change/").content.decode()
    assert "The exchange no longer accepts the API key" in page and "Troubleshooter" in page

    url = f"/admin/support/ticket/{ticket.pk}/change/"
    assert staff.post(url, admin_form(ticket, reply="Проверяем ключ", internal_note="on")).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        form = admin_form(ticket, reply="Привяжите ключ заново, пожалуйста.")
        assert staff.post(url, form).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "waiting" and ticket.first_response_at and ticket.assignee == staff.user

    thread = api.get(f"/api/support/tickets/{ticket.pk}/").json()
    bodies = [m["body"] for m in thread["messages"]]
    assert bodies == ["Бот остановился", "Привяжите ключ заново, пожалуйста."]  # the note is not there
    assert thread["messages"][0]["attachments"][0]["content_type"] == "image/png"
    assert thread["messages"][1]["from_staff"] is True

    (note,) = Notification.objects.filter(user=user, event="ticket_reply")
    assert note.title == "Ответ поддержки: «Бот не торгует»" and note.url == f"/support/{ticket.pk}"
    assert api.get("/api/notifications/unread-count/").json() == {"unread": 1}
    (mail,) = OutboxMessage.objects.filter(recipient=user.email)
    assert "Привяжите ключ заново" in mail.body and mail.subject == "Setka: Ответ поддержки: «Бот не торгует»"
    assert Delivery.objects.get(notification=note, channel="email").status == "sent"


def test_the_user_replies_closes_and_rates():
    user = UserFactory()
    ticket = ticket_create(user=user, subject="Billing", body="Where is my invoice?", queue="billing")
    operator = UserFactory(is_staff=True)
    ticket_message_add(ticket=ticket, author=operator, body="Here it is.", via="admin")
    api = _client(user)
    assert api.post(f"/api/support/tickets/{ticket.pk}/rating/", {"rating": 5}).status_code == 409
    assert (
        api.post(f"/api/support/tickets/{ticket.pk}/messages/", {"body": "Thanks, but one more thing"}).status_code
        == 201
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the user wrote: back to staff
    assert api.post(f"/api/support/tickets/{ticket.pk}/close/").json()["status"] == "closed"
    assert api.post(f"/api/support/tickets/{ticket.pk}/rating/", {"rating": 6}).status_code == 400
    body = api.post(f"/api/support/tickets/{ticket.pk}/rating/", {"rating": 4, "comment": "ok"}).json()
    assert body["rating"] == 4
    response = api.post(f"/api/support/tickets/{ticket.pk}/messages/", {"body": "again"})
    assert response.status_code == 409 and response.json()["code"] == "ticket_closed"


def test_nobody_sees_another_users_ticket_bot_or_attachment():
    owner, stranger = UserFactory(), UserFactory()
    ticket = ticket_create(user=owner, subject="Mine", body="hello")
    bot = BotFactory(user=owner)
    api = _client(stranger)
    assert api.get(f"/api/support/tickets/{ticket.pk}/").status_code == 404
    assert api.post(f"/api/support/tickets/{ticket.pk}/messages/", {"body": "hi"}).status_code == 404
    assert api.get(f"/api/support/bots/{bot.pk}/troubleshoot/").status_code == 404
    assert api.post("/api/support/tickets/", {"subject": "x", "body": "y", "bot": bot.pk}).status_code == 404
    assert api.get("/api/support/tickets/").json() == []
    with pytest.raises(Exception):  # noqa: B017 - the service refuses too
        ticket_message_add(ticket=ticket, author=stranger, body="hi")


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("invoice.pdf.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "attachment_type"),
        ("photo.png", b"<?php system($_GET['c']); ?>\x00\x00", "attachment_type"),
        ("big.txt", b"a" * (5 * 1024 * 1024 + 1), "attachment_too_large"),
    ],
)
def test_attachments_are_checked_by_content_and_size(name, data, code):
    api = _client(UserFactory())
    file = io.BytesIO(data)
    file.name = name
    response = api.post(
        "/api/support/tickets/", {"subject": "s", "body": "b", "attachments": [file]}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["code"] == code
    assert Ticket.objects.count() == 0  # nothing half-written


def test_a_pdf_named_as_text_is_stored_as_a_pdf():
    api = _client(UserFactory())
    file = io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    file.name = "notes.txt"
    response = api.post(
        "/api/support/tickets/", {"subject": "s", "body": "b", "attachments": [file]}, format="multipart"
    )
    (attachment,) = response.json()["messages"][0]["attachments"]
    assert attachment["name"] == "notes.pdf" and attachment["content_type"] == "application/pdf"
    download = api.get(attachment["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")


def test_sla_by_plan_and_overdue_in_admin(staff):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory()
    ticket = ticket_create(user=user, subject="Late", body="help")
    assert ticket.first_response_due - ticket.created_at == pytest.approx(timedelta(hours=24), abs=timedelta(seconds=5))
    assert ticket not in tickets_overdue()
    Ticket.objects.filter(pk=ticket.pk).update(first_response_due=timezone.now() - timedelta(minutes=1))
    assert list(tickets_overdue()) == [ticket]
    page = staff.get("/admin/support/ticket/?sla=overdue").content.decode()
    assert "Late" in page


def test_a_canned_reply_fills_an_empty_reply_in_the_users_language(staff):
    user = UserFactory(language="en")
    ticket = ticket_create(user=user, subject="Key", body="My key?")
    canned = CannedReply.objects.create(title="Rebind", body_ru="Привяжите ключ", body_en="Please bind the key again")
    form = admin_form(ticket, queue="exchange", canned_reply=canned.pk)
    assert staff.post(f"/admin/support/ticket/{ticket.pk}/change/", form).status_code == 302
    ticket.refresh_from_db()
    assert ticket.queue == "exchange"
    assert list(ticket.messages.values_list("body", flat=True)) == ["My key?", "Please bind the key again"]
    deliveries_send_due()


def test_support_staff_answer_tickets_but_cannot_edit_the_knowledge_base(client):
    from django.contrib.auth.models import Group

    from accounts.roles import SUPPORT, roles_setup

    roles_setup()
    agent = UserFactory(is_staff=True, email="agent@example.com")
    agent.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(agent)
    ticket = ticket_create(user=UserFactory(), subject="Help", body="please")
    url = f"/admin/support/ticket/{ticket.pk}/change/"
    assert client.post(url, admin_form(ticket, reply="On it.")).status_code == 302
    assert ticket.messages.filter(from_staff=True, body="On it.").exists()
    assert client.get("/admin/support/article/add/").status_code == 403
