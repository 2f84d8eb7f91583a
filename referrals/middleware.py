"""Carries a referral code through sign-up: the landing (or the sign-up page, from `?ref=`) keeps
it in the `setka_ref` cookie; the first API request the new account makes once logged in (after
email verification) attributes it, and the cookie is dropped. DRF authenticates inside the view
and sets the user on the underlying request, so this works on the response."""

from __future__ import annotations

import logging

from accounts.throttling import client_ip
from config.errors import DomainError

logger = logging.getLogger("referrals")
COOKIE, DEVICE = "setka_ref", "setka_dev"


class ReferralCookieMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        code = request.COOKIES.get(COOKIE)
        if not code or not request.path_info.startswith("/api/") or request.path_info.startswith("/api/referrals/"):
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or response.status_code >= 400:
            return response
        from referrals.services import referral_attribute

        try:
            referral_attribute(
                user=user,
                code=code[:64],
                source="link",
                ip=client_ip(request),
                device=request.COOKIES.get(DEVICE, "")[:64],
            )
        except DomainError as exc:
            logger.info("referrals: code from the cookie not attributed to %s: %s", user.pk, exc.code)
        response.delete_cookie(COOKIE)
        return response
