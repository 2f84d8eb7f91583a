"""Serves the built Nuxt app from the same origin as the API (cookies stay first-party).

Files that exist under FRONTEND_DIST are returned as they are (hashed assets get a long cache);
any other path gets index.html so the SPA router can take it."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def frontend_view(request: HttpRequest) -> HttpResponseBase:
    root: Path = settings.FRONTEND_DIST
    relative = request.path.lstrip("/")
    candidate = (root / relative).resolve()
    if relative and candidate.is_file() and root.resolve() in candidate.parents:
        content_type, encoding = mimetypes.guess_type(candidate.name)
        response = FileResponse(candidate.open("rb"), content_type=content_type or "application/octet-stream")
        if "/_nuxt/" in f"/{relative}":
            response["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
    index = root / "index.html"
    if not index.is_file():
        index = root / "200.html"
    if not index.is_file():
        raise Http404("The frontend is not built. Run `scripts/run` (it builds it) or `npm run build` in frontend/.")
    response = FileResponse(index.open("rb"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
