"""VK's Callback API end to end through the fake VK API: the fake confirms our server, then
delivers events in VK's shape to it (again, as VK retries). A message to the community becomes a
help-desk ticket thread (an anonymous contact's, or a linked user's that shows in the app);
a staff reply in admin goes back to the VK conversation once (messages.send with random_id);
a comment on our announcement's wall post is kept once for moderators."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from announcements.models import Publication, VkCallbackEvent, VkComment
from announcements.outlets import vk_message_send
from announcements.services import announcement_schedule, announcements_publish_due
from notifications.models import Notification
from support.models import Ticket, TicketMessage, VkContact
from support.tasks import vk_reply_send_task
from tests.announcements.conftest import GROUP_ID
from tests.announcements.test_publish import _post
from tests.factories import UserFactory
from tests.support.test_tickets import admin_form

pytestmark = pytest.mark.django_db(transaction=True)

ANON, LINKED = 510_001, 510_002


@pytest.fixture
def vk_server(outlets, live_server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _, vk = outlets
    url = f"{live_server.url}/api/announcements/vk/callback/"
    assert vk.control("callback", url=url, group_id=GROUP_ID)["confirmed"] is True
    vk.url_callback = url
    return vk


def _sent_to(vk, peer: int) -> list[dict]:
    return requests.get(f"{vk.url}/_control/messages", params={"peer_id": peer}, timeout=5).json()


def _staff():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_login(staff)
    return client


def test_a_message_to_the_community_becomes_a_ticket_and_the_staff_reply_goes_back_once(vk_server):
    vk = vk_server
    # An anonymous VK user writes; VK delivers the event twice (it did not hear our "ok" in time).
    first = vk.control("message", group_id=GROUP_ID, from_id=ANON, text="Бот не торгует, помогите", repeat=2)
    assert first["answers"] == [[200, "ok"], [200, "ok"]]
    event = VkCallbackEvent.objects.get(event_id=first["event_id"])
    assert event.deliveries == 2 and event.outcome == "ticket" and "secret" not in event.payload
    ticket = Ticket.objects.get(vk_contact__vk_user_id=ANON)
    assert ticket.user is None and ticket.status == "new" and ticket.subject == "Бот не торгует, помогите"
    assert list(ticket.messages.values_list("body", "via")) == [("Бот не торгует, помогите", "vk")]

    # A second message joins the same thread.
    vk.control("message", group_id=GROUP_ID, from_id=ANON, text="Ключ привязан вчера")
    assert Ticket.objects.filter(vk_contact__vk_user_id=ANON).count() == 1
    assert ticket.messages.count() == 2

    # Staff reply in admin: the reply reaches the VK conversation, once; an internal note does not.
    staff = _staff()
    url = f"/admin/support/ticket/{ticket.pk}/change/"
    assert staff.post(url, admin_form(ticket, reply="Проверим ключ", internal_note="on")).status_code == 302
    assert staff.post(url, admin_form(ticket, reply="Включите право торговли у ключа.")).status_code == 302
    (sent,) = _sent_to(vk, ANON)
    assert sent["text"] == "Включите право торговли у ключа." and sent["group_id"] == GROUP_ID
    reply = TicketMessage.objects.get(ticket=ticket, from_staff=True, internal=False)
    assert reply.vk_message_id == sent["id"] and sent["random_id"] == reply.pk
    ticket.refresh_from_db()
    assert ticket.status == "waiting"
    # A retried task, or the same random_id sent again, sends nothing more.
    assert vk_reply_send_task(reply.pk) == sent["id"]
    assert vk_message_send(peer_id=ANON, message="again", random_id=reply.pk) == sent["id"]
    assert len(_sent_to(vk, ANON)) == 1

    # The contact answers: the waiting ticket opens again.
    vk.control("message", group_id=GROUP_ID, from_id=ANON, text="Спасибо, заработало")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.filter(internal=False).count() == 4


def test_a_linked_users_message_is_their_ticket_in_the_app_with_the_reply_in_both_places(vk_server):
    vk = vk_server
    user = UserFactory(language="en")
    VkContact.objects.create(vk_user_id=LINKED, user=user)
    vk.control("message", group_id=GROUP_ID, from_id=LINKED, text="How do I renew my plan?")
    ticket = Ticket.objects.get(vk_contact__vk_user_id=LINKED)
    assert ticket.user == user and ticket.language == "en"
    api = APIClient()
    api.force_authenticate(user)
    assert [t["id"] for t in api.get("/api/support/tickets/").json()] == [ticket.pk]
    staff = _staff()
    staff.post(f"/admin/support/ticket/{ticket.pk}/change/", admin_form(ticket, reply="Open Billing and press Renew."))
    assert [m["text"] for m in _sent_to(vk, LINKED)] == ["Open Billing and press Renew."]
    assert Notification.objects.filter(user=user, event="ticket_reply").count() == 1
    thread = api.get(f"/api/support/tickets/{ticket.pk}/").json()
    assert [m["body"] for m in thread["messages"]] == ["How do I renew my plan?", "Open Billing and press Renew."]
    # Someone else's VK messages never land in this user's tickets.
    vk.control("message", group_id=GROUP_ID, from_id=LINKED + 1, text="hello")
    assert [t["id"] for t in api.get("/api/support/tickets/").json()] == [ticket.pk]


def test_comments_on_our_announcement_post_are_kept_once_for_moderators(vk_server):
    vk = vk_server
    at = timezone.now()
    post = announcement_schedule(announcement=_post(), publish_at=at)
    announcements_publish_due(now=at + timedelta(seconds=1))
    wall_post = int(Publication.objects.get(announcement=post, outlet="vk").external_id)
    answer = vk.control(
        "comment", group_id=GROUP_ID, post_id=wall_post, from_id=ANON, text="А на OKX работает?", repeat=2
    )
    assert answer["answers"] == [[200, "ok"], [200, "ok"]]
    (comment,) = VkComment.objects.all()
    assert comment.announcement == post and comment.text == "А на OKX работает?" and comment.status == "new"
    page = _staff().get("/admin/announcements/vkcomment/").content.decode()
    assert "А на OKX работает?" in page and f"id{ANON}" in page


def test_events_without_our_secret_or_group_are_refused_and_stored_nowhere(vk_server):
    vk = vk_server
    client = APIClient()
    body = {"type": "message_new", "group_id": GROUP_ID, "event_id": "e1", "object": {"message": {}}}
    assert client.post(vk.url_callback, {**body, "secret": "guess"}, format="json").status_code == 403
    assert client.post(vk.url_callback, body, format="json").status_code == 403
    other = {**body, "group_id": GROUP_ID + 1, "secret": "vk-secret"}
    assert client.post(vk.url_callback, other, format="json").status_code == 403
    confirm = client.post(vk.url_callback, {"type": "confirmation", "group_id": GROUP_ID}, format="json")
    assert confirm.status_code == 200 and confirm.content == b"conf-123"
    # a well-signed but unreadable event is stored, answered "ok" (VK would only retry it) and left alone
    broken = client.post(vk.url_callback, {**body, "secret": "vk-secret"}, format="json")
    assert broken.status_code == 200 and broken.content == b"ok"
    assert VkCallbackEvent.objects.get(event_id="e1").outcome == "unreadable"
    assert not Ticket.objects.exists()
