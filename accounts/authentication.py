from rest_framework.authentication import BaseAuthentication


class CookieTokenAuthentication(BaseAuthentication):
    """Placeholder; the accounts work fills this in (access token in an httpOnly cookie)."""

    def authenticate(self, request):
        return None
