"""Operator and support staff in Django admin: who may issue grants, grant/revoke access."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group

from accounts import services
from accounts.models import AccessGrant, OutboxMessage, User
from accounts.roles import OPERATOR, SUPPORT, roles_setup
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roles(db):
    """What `manage.py setup_roles` does after migrate."""
    roles_setup()


def _staff(email, group=None):
    user = services.user_create(email=email, password=DEFAULT_PASSWORD, email_verified=True, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operator_admin(client):
    user = _staff("op@example.com", OPERATOR)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def support_admin(client):
    user = _staff("support@example.com", SUPPORT)
    client.force_login(user)
    return client


def test_setup_roles_makes_groups_with_expected_permissions():
    operator = Group.objects.get(name=OPERATOR)
    support = Group.objects.get(name=SUPPORT)
    op_perms = {f"{p.content_type.app_label}.{p.codename}" for p in operator.permissions.select_related("content_type")}
    sup_perms = {f"{p.content_type.app_label}.{p.codename}" for p in support.permissions.select_related("content_type")}
    assert {
        "accounts.add_accessgrant",
        "accounts.change_accessgrant",
        "bots.stop_bot",
        "trading.view_order",
    } <= op_perms
    assert "accounts.delete_user" not in op_perms
    assert {"accounts.view_user", "bots.view_bot", "trading.view_order", "trading.view_trade"} <= sup_perms
    assert "accounts.view_outboxmessage" in sup_perms
    # read-only everywhere but the help desk, where support answers tickets
    assert not any(
        p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in sup_perms if p != "support.change_ticket"
    )
    assert {"support.view_ticket", "support.change_ticket"} <= sup_perms and "support.change_ticket" in op_perms
    assert "accounts.view_accessgrant" not in sup_perms
    # Idempotent.
    before = roles_setup()
    assert roles_setup() == before


def test_staff_without_operator_group_cannot_issue_grants(support_admin):
    assert support_admin.get("/admin/accounts/accessgrant/add/").status_code == 403
    response = support_admin.post("/admin/accounts/accessgrant/add/", {"issued_to_email": "", "note": "x"})
    assert response.status_code == 403
    assert not AccessGrant.objects.exists()
    # ... but can read users and the outbox.
    assert support_admin.get("/admin/accounts/user/").status_code == 200
    assert support_admin.get("/admin/accounts/outboxmessage/").status_code == 200


def test_plain_staff_cannot_issue_grants(client):
    client.force_login(_staff("plain@example.com"))
    assert client.get("/admin/accounts/accessgrant/add/").status_code == 403


def test_operator_issues_a_grant_and_the_code_works(operator_admin):
    response = operator_admin.post(
        "/admin/accounts/accessgrant/add/",
        {
            "issued_to_email": "Friend@Example.com",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
            "note": "friend",
        },
        follow=True,
    )
    assert response.status_code == 200
    grant = AccessGrant.objects.get()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", grant.code)
    assert grant.issued_by == operator_admin.user
    assert grant.issued_to_email == "friend@example.com"
    assert grant.code in response.content.decode()

    friend = services.user_create(email="friend@example.com", password=DEFAULT_PASSWORD, email_verified=True)
    services.access_grant_redeem(user=friend, code=grant.code)
    friend.refresh_from_db()
    assert friend.has_trading_access
    # The grant list shows who used it.
    assert "friend@example.com" in operator_admin.get("/admin/accounts/accessgrant/").content.decode()

    # Revoking the redeemed grant takes the access away.
    response = operator_admin.post(
        "/admin/accounts/accessgrant/", {"action": "revoke", "_selected_action": [grant.pk]}, follow=True
    )
    assert response.status_code == 200
    grant.refresh_from_db()
    friend.refresh_from_db()
    assert grant.revoked_by == operator_admin.user
    assert not friend.has_trading_access


def test_operator_grants_and_revokes_access_from_the_user_list(operator_admin):
    person = services.user_create(email="person@example.com", password=DEFAULT_PASSWORD, email_verified=True)
    assert not person.has_trading_access
    operator_admin.post("/admin/accounts/user/", {"action": "grant_access", "_selected_action": [person.pk]})
    person.refresh_from_db()
    assert person.has_trading_access
    grant = AccessGrant.objects.get(redeemed_by=person)
    assert grant.issued_by == operator_admin.user

    operator_admin.post("/admin/accounts/user/", {"action": "revoke_access", "_selected_action": [person.pk]})
    person.refresh_from_db()
    assert not person.has_trading_access
    # And again: a revoked user can be granted access a second time.
    operator_admin.post("/admin/accounts/user/", {"action": "grant_access", "_selected_action": [person.pk]})
    person.refresh_from_db()
    assert person.has_trading_access
    assert AccessGrant.objects.filter(redeemed_by=person).count() == 2


def test_support_cannot_run_grant_actions(support_admin):
    person = services.user_create(email="person2@example.com", password=DEFAULT_PASSWORD, email_verified=True)
    support_admin.post("/admin/accounts/user/", {"action": "grant_access", "_selected_action": [person.pk]})
    person.refresh_from_db()
    assert not person.has_trading_access


def test_operator_cannot_edit_staff_or_give_privileges(operator_admin):
    boss = User.objects.create_superuser(email="boss@example.com", password=DEFAULT_PASSWORD)
    response = operator_admin.post(
        f"/admin/accounts/user/{boss.pk}/password/",
        {"password1": "Hijack-pass-12345", "password2": "Hijack-pass-12345"},
    )
    assert response.status_code == 403
    boss.refresh_from_db()
    assert boss.check_password(DEFAULT_PASSWORD)

    person = services.user_create(email="person3@example.com", password=DEFAULT_PASSWORD)
    page = operator_admin.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page


def test_outbox_is_read_only_in_admin(operator_admin):
    OutboxMessage.objects.create(channel="sms", recipient="+79991234567", body="code 123456")
    message = OutboxMessage.objects.get()
    assert operator_admin.get("/admin/accounts/outboxmessage/").status_code == 200
    assert operator_admin.get("/admin/accounts/outboxmessage/add/").status_code == 403
    operator_admin.post(f"/admin/accounts/outboxmessage/{message.pk}/change/", {"body": "changed"})
    message.refresh_from_db()
    assert message.body == "code 123456"


def test_admin_pages_render(operator_admin):
    services.access_grant_issue(operator=operator_admin.user)
    for path in (
        "/admin/accounts/user/",
        "/admin/accounts/user/?access=yes",
        f"/admin/accounts/user/{operator_admin.user.pk}/change/",
        "/admin/accounts/accessgrant/?state=usable",
        f"/admin/accounts/accessgrant/{AccessGrant.objects.get().pk}/change/",
        "/admin/accounts/refreshtoken/",
        "/admin/accounts/profile/",
    ):
        assert operator_admin.get(path).status_code == 200, path


def test_admin_login_is_under_the_same_lockout(client, settings):
    settings.SETKA_LOGIN_MAX_FAILURES = 3
    _staff("admin-user@example.com", OPERATOR)
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "admin-user@example.com", "password": "wrong-password-x"})
        assert response.status_code == 200  # the form again, with an error
    # Locked now: even the right password does not open the admin.
    response = client.post("/admin/login/", {"username": "admin-user@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 302  # still redirected to the login page


def test_admin_login_works(client):
    _staff("admin-ok@example.com", OPERATOR)
    response = client.post("/admin/login/", {"username": "ADMIN-OK@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 200


def test_operator_emails_a_bound_code(operator_admin):
    bound = services.access_grant_issue(operator=operator_admin.user, issued_to_email="bound@example.com")
    unbound = services.access_grant_issue(operator=operator_admin.user)
    operator_admin.post(
        "/admin/accounts/accessgrant/", {"action": "send_by_email", "_selected_action": [bound.pk, unbound.pk]}
    )
    assert [m.recipient for m in OutboxMessage.objects.all()] == ["bound@example.com"]
    assert bound.code in OutboxMessage.objects.get().body


def test_support_reads_users_but_cannot_change_them(support_admin):
    person = services.user_create(email="person4@example.com", password=DEFAULT_PASSWORD)
    page = support_admin.get(f"/admin/accounts/user/{person.pk}/change/")
    assert page.status_code == 200
    assert 'name="email"' not in page.content.decode()  # read-only view
    response = support_admin.post(f"/admin/accounts/user/{person.pk}/change/", {"email": "hijack@example.com"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.email == "person4@example.com"


def test_superuser_adds_a_user_who_can_log_in(client):
    from tests.accounts.conftest import SpaClient

    boss = User.objects.create_superuser(email="boss2@example.com", password=DEFAULT_PASSWORD)
    client.force_login(boss)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Made.By.Admin@example.com",
            "usable_password": "true",
            "password1": "Admin-made-pass-42",
            "password2": "Admin-made-pass-42",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = User.objects.get(email="made.by.admin@example.com")
    assert hasattr(made, "profile")
    spa = SpaClient()
    response = spa.post("/api/auth/login/", {"email": "made.by.admin@example.com", "password": "Admin-made-pass-42"})
    assert response.status_code == 200
    assert response.data["user"]["has_access"] is False


def test_admin_refuses_an_email_differing_only_in_case(client):
    boss = User.objects.create_superuser(email="boss3@example.com", password=DEFAULT_PASSWORD)
    services.user_create(email="taken@example.com", password=DEFAULT_PASSWORD)
    client.force_login(boss)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "TAKEN@example.com",
            "usable_password": "true",
            "password1": "Admin-pass-4242",
            "password2": "Admin-pass-4242",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
