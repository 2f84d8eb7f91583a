"""Paths no view should ever see, refused before URL resolution.

- A NUL or another control character (`GET /%00`): the single-page-app view would hand it to
  the file system ("embedded null byte", a 500). Answered 400.
- A path segment longer than 255 characters: no route and no file has such a name (the file
  system answers ENAMETOOLONG, a 500). Answered 404.
- An id beyond 64 bits in an API or admin path (`/api/bots/99999999999999999999/`): no row can
  have it, and the SQLite of the quick start cannot even compare it (OverflowError, a 500).
  Answered 404. (The single-page app's own paths are left to its router.)

API paths get the contract's JSON error body {"detail", "code"}; other paths a plain text.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from config.limits import MAX_ID

MAX_SEGMENT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _refuse(request, status: int, code: str, detail: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def path_problem(path: str) -> tuple[int, str, str] | None:
    """(status, code, message) when `path` must not reach a view, else None."""
    if _CONTROL.search(path):
        return 400, "invalid_path", _("The address contains characters that are not allowed.")
    segments = path.split("/")
    if any(len(segment) > MAX_SEGMENT for segment in segments):
        return 404, "not_found", _("Not found.")
    if path.startswith(("/api/", "/admin/")):
        for segment in segments:
            if segment.isdigit() and segment.isascii() and (len(segment) > 19 or int(segment) > MAX_ID):
                return 404, "not_found", _("Not found.")
    return None


class RejectBadPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = path_problem(request.path_info)
        if problem is not None:
            return _refuse(request, *problem)
        return self.get_response(request)
