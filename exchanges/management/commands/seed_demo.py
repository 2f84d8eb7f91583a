"""Creates the quick-start's demo operator and demo user (idempotent).

Lives in exchanges (above accounts) because it also opens the demo's paper exchange account.
The demo user has a verified email, trading access and a paper-trading account on the
simulator funded with SETKA_PAPER_FUNDING_USDT. Never run this in production: it refuses."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from exchanges.services import exchange_account_create_paper

DEMO_USER = ("demo@setka.local", "demo-password-2026")
DEMO_OPERATOR = ("operator@setka.local", "operator-password-2026")


def _ensure_user(email: str, password: str, **fields) -> User:
    from allauth.account.models import EmailAddress

    user, created = User.objects.get_or_create(email=email, defaults=fields)
    if created:
        user.set_password(password)
        user.save()
    Profile.objects.get_or_create(user=user)
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


class Command(BaseCommand):
    help = "Create the demo operator and the demo user with a funded paper account (development only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development and demos; it refuses to run in production.")
        with transaction.atomic():
            operator = _ensure_user(DEMO_OPERATOR[0], DEMO_OPERATOR[1], is_staff=True, access_granted_at=timezone.now())
            group = Group.objects.filter(name="operator").first()
            if group:
                operator.groups.add(group)
            else:  # roles not set up (setup_roles missing): keep the demo usable
                operator.is_superuser = True
                operator.save(update_fields=["is_superuser"])
            demo = _ensure_user(DEMO_USER[0], DEMO_USER[1], access_granted_at=timezone.now())
        self.stdout.write(f"demo operator: {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]}")
        self.stdout.write(f"demo user:     {DEMO_USER[0]} / {DEMO_USER[1]}")

        if demo.exchange_accounts.filter(environment="paper").exists():
            self.stdout.write("demo paper account: already there")
            return
        account = exchange_account_create_paper(user=demo, label="Paper")
        self.stdout.write(f"demo paper account: {account.label} funded with {settings.SETKA_PAPER_FUNDING_USDT} USDT")
