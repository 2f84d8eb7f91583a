"""Every endpoint an anonymous visitor can reach has a throttle, and every throttle in use is
the atomic one (issue 9, item 6)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.throttling import AtomicThrottleMixin


def _views(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            cls = getattr(entry.callback, "cls", None)
            if cls is not None and issubclass(cls, APIView):
                yield prefix + str(entry.pattern), cls, getattr(entry.callback, "initkwargs", {})


def _anonymous_allowed(view) -> bool:
    request = APIRequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return all(isinstance(p, AllowAny) or p.has_permission(request, view) for p in view.get_permissions())


def test_every_anonymous_api_endpoint_has_an_atomic_throttle():
    anonymous, missing, not_atomic = [], [], []
    for route, cls, initkwargs in _views():
        view = cls(**initkwargs)
        throttles = view.get_throttles()
        if _anonymous_allowed(view):
            anonymous.append(route)
            if not throttles:
                missing.append(route)
        not_atomic += [f"{route}: {type(t).__name__}" for t in throttles if not isinstance(t, AtomicThrottleMixin)]
    assert {"api/auth/login/", "api/auth/signup/", "api/auth/csrf/", "api/auth/refresh/"} <= set(anonymous)
    assert missing == []
    assert not_atomic == []


@pytest.mark.django_db
def test_the_session_endpoints_are_throttled_too(spa, settings):
    settings.SETKA_THROTTLE_SESSION = "3/min"
    for _ in range(3):
        assert spa.get("/api/auth/session/").status_code == 200
    response = spa.get("/api/auth/session/")
    assert response.status_code == 429 and response.data["code"] == "throttled" and int(response["Retry-After"]) > 0
