"""Authentication backend for everything that calls django.contrib.auth.authenticate() (the
Django admin login above all): the same lockout per (email, IP) and per IP as the API login."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import throttling
from accounts.models import User
from accounts.services import login_unlock_offer


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get("email")
        if email is None or password is None or not isinstance(email, str):
            return None
        email = email.strip().lower()
        ip = throttling.client_ip(request) if request is not None else None
        if throttling.login_attempt_begin(email=email, ip=ip):
            # PermissionDenied stops the backend chain: no other backend may let a locked email in.
            raise PermissionDenied("Too many failed login attempts.")
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            if throttling.login_attempt_failed(email=email, ip=ip):
                owner = User.objects.filter(email__iexact=email, is_active=True).first()
                if owner is not None:
                    login_unlock_offer(user=owner, ip=ip)  # the owner always has a way in
            raise PermissionDenied("Wrong email or password.")
        throttling.login_attempt_succeeded(email=email, ip=ip)
        return user
