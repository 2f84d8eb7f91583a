"""One error shape for the whole API: {"detail": "...", "code": "...", "fields": {...}}.

DRF's default already answers 4xx for validation, auth and throttling; this adds a readable
top-level `detail` to field errors and turns domain errors (services raise DomainError) and
exchange failures into 400/409/503 instead of 500: views call services and never translate
(services raise config.errors.DomainError; this module is the one place that maps errors to HTTP). `detail` is said in the user's language (their profile's, else the
request's Accept-Language); `code` is one of config.codes.ERRORS, which the app renders itself."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.codes import ERRORS
from config.errors import DomainError
from exchanges.errors import ExchangeError, TemporaryExchangeError


def _first_message(data) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            message = _first_message(value)
            if message:
                return message if key in ("detail", "non_field_errors") else f"{key}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    if isinstance(data, str):
        return data
    return ""


_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def request_language(request) -> str:
    """The signed-in user's language, else the one LocaleMiddleware took from the request."""
    user = getattr(request, "_user", None)  # set once DRF authenticated; never re-authenticate here
    language = getattr(user, "language", "") if getattr(user, "is_authenticated", False) else ""
    if not language:
        django_request = getattr(request, "_request", request)
        language = getattr(django_request, "LANGUAGE_CODE", "") or translation.get_language()
    return language if language in ("ru", "en") else "ru"


def localized_detail(message: str, *, code: str, language: str) -> str:
    """`message` in `language`: its translation when the catalog has one; as it is when it is
    already in that language; otherwise the generic text of its code (config.codes.ERRORS)."""
    message = str(message)
    with translation.override(language):
        translated = translation.gettext(message)
        if translated != message or (language == "ru") == bool(_CYRILLIC.search(message)):
            return translated
        generic = ERRORS.get(code)
        return translation.gettext(generic) if generic else message


def api_exception_handler(exc, context):
    response = _api_exception_response(exc, context)
    if response is not None and isinstance(response.data, dict) and isinstance(response.data.get("detail"), str):
        language = request_language(context.get("request"))
        response.data["detail"] = localized_detail(
            response.data["detail"], code=str(response.data.get("code", "")), language=language
        )
        response["Content-Language"] = language
    return response


def domain_error_of(exc: Exception) -> DomainError | None:
    """The one place a service's non-domain failure becomes an answer: an exchange that does not
    answer is a 503 the user can retry, an exchange's refusal a 400 saying so."""
    if isinstance(exc, TemporaryExchangeError):
        return DomainError(
            "The exchange is not answering right now; try again in a minute.",
            code="exchange_unavailable",
            status_code=503,
        )
    if isinstance(exc, ExchangeError):
        return DomainError(f"The exchange refused: {exc}", code="exchange_error")
    return None


def _api_exception_response(exc, context):
    exc = domain_error_of(exc) or exc
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.fields:
            body["fields"] = exc.fields
        return Response(body, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        fields = response.data
        response.data = {"detail": _first_message(fields) or "Invalid input.", "code": "invalid", "fields": fields}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(response.data["detail"], "code", "error"))
    return response
