"""allauth adapter: the JSON API (accounts.apis) owns the flows; allauth keeps the email
addresses and their verification state (allauth.account.models.EmailAddress) and its admin.
The adapter makes allauth's own pieces agree with ours (sign-up switch, email normalisation)."""

from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return getattr(settings, "SETKA_SIGNUP_OPEN", True)

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()


def signup_open(request) -> bool:
    return get_adapter(request).is_open_for_signup(request)
