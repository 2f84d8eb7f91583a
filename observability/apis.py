"""/health (the process answers), /ready (it can do its work), /metrics (Prometheus).

Plain Django views, not DRF: probes hit them every few seconds, they must stay cheap and must
not depend on authentication, throttles or the session."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .checks import run_checks
from .prom import exposition


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready_view(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    ready = all(r.ok for r in results)
    body = {
        "status": "ready" if ready else "not_ready",
        "checks": {r.name: {"ok": r.ok, "ms": r.ms, **({"error": r.error} if r.error else {})} for r in results},
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.SETKA_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(
                "metrics need the bearer token (SETKA_METRICS_TOKEN)\n", status=401, content_type="text/plain"
            )
    return HttpResponse(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")
