"""What lets a standard MCP client connect with no manual setup: the authorization server's
metadata (RFC 8414) at /.well-known/oauth-authorization-server, and dynamic client registration
(RFC 7591) at /o/register/, which creates a django-oauth-toolkit Application.

The MCP process publishes the protected-resource metadata (RFC 9728) naming MCP_ISSUER_URL as
its authorization server; a client follows it here, registers, sends the user to /o/authorize/
(login, then the consent page listing the scopes) and exchanges the code with PKCE at /o/token/.

Registration is open (RFC 7591 "open registration"), so it is narrow: authorization code with
PKCE only, redirect URIs https or loopback http (RFC 8252 §7.3), at most five, and a budget of
registrations per client IP (MCP_OAUTH_REGISTRATIONS_PER_HOUR)."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

SCOPES = ("read", "trade")
AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
GRANT_TYPES = ("authorization_code", "refresh_token")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_BODY = 16 * 1024
MAX_REDIRECT_URIS = 5


def issuer() -> str:
    """Exactly the string the MCP process names as its authorization server (RFC 8414 §3.3:
    clients compare the two as strings)."""
    return str(settings.MCP_ISSUER_URL)


def metadata() -> dict:
    base = issuer().rstrip("/")
    return {
        "issuer": issuer(),
        "authorization_endpoint": f"{base}/o/authorize/",
        "token_endpoint": f"{base}/o/token/",
        "registration_endpoint": f"{base}/o/register/",
        "revocation_endpoint": f"{base}/o/revoke_token/",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "grant_types_supported": list(GRANT_TYPES),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "service_documentation": f"{base}/api/docs/",
    }


@require_GET
def authorization_server_metadata(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(metadata())
    response["Access-Control-Allow-Origin"] = "*"  # public metadata; browser-based clients read it
    response["Cache-Control"] = "public, max-age=3600"
    return response


class RegistrationError(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def redirect_uri_check(uri) -> str:
    """A redirect URI a registered client may use: https anywhere, http only to this machine
    (loopback, RFC 8252 §7.3); absolute, no fragment, no credentials."""
    if not isinstance(uri, str) or not uri or len(uri) > 500 or any(ch.isspace() for ch in uri):
        raise RegistrationError(
            "invalid_redirect_uri", "Each redirect URI is an absolute URL of at most 500 characters."
        )
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise RegistrationError("invalid_redirect_uri", f"Not a URL: {uri[:100]}") from None
    if parts.fragment or "#" in uri or parts.username or parts.password or not host:
        raise RegistrationError("invalid_redirect_uri", f"A redirect URI has a host and no fragment: {uri[:100]}")
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return uri
    raise RegistrationError(
        "invalid_redirect_uri", f"A redirect URI is https, or http to 127.0.0.1 / localhost only: {uri[:100]}"
    )


def registration_validate(body) -> dict:
    """The client metadata of an RFC 7591 request, checked and completed with defaults."""
    if not isinstance(body, dict):
        raise RegistrationError("invalid_client_metadata", "The body is a JSON object of client metadata.")
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise RegistrationError("invalid_redirect_uri", f"redirect_uris lists 1 to {MAX_REDIRECT_URIS} URLs.")
    uris = [redirect_uri_check(u) for u in uris]
    method = body.get("token_endpoint_auth_method", "client_secret_basic")  # RFC 7591 §2 default
    if method not in AUTH_METHODS:
        raise RegistrationError(
            "invalid_client_metadata", f"token_endpoint_auth_method is one of: {', '.join(AUTH_METHODS)}."
        )
    grants = body.get("grant_types", ["authorization_code"])
    if (
        not isinstance(grants, list)
        or not grants
        or not set(grants) <= set(GRANT_TYPES)
        or "authorization_code" not in grants
    ):
        raise RegistrationError(
            "invalid_client_metadata", "grant_types: authorization_code (and refresh_token); nothing else."
        )
    responses = body.get("response_types", ["code"])
    if responses != ["code"]:
        raise RegistrationError("invalid_client_metadata", 'response_types is ["code"].')
    scope = body.get("scope", "read")
    if not isinstance(scope, str) or not scope.split() or not set(scope.split()) <= set(SCOPES):
        raise RegistrationError("invalid_client_metadata", "scope is read, or read trade.")
    name = body.get("client_name", "")
    if not isinstance(name, str):
        name = ""
    name = " ".join(name.split())[:100] or "MCP client"
    return {
        "redirect_uris": uris,
        "token_endpoint_auth_method": method,
        "grant_types": sorted(set(grants), key=GRANT_TYPES.index),
        "response_types": ["code"],
        "scope": " ".join(s for s in SCOPES if s in scope.split()),
        "client_name": name,
    }


def client_register(*, data: dict) -> dict:
    """Create the Application for validated client metadata; the answer of RFC 7591 §3.2.1
    (a client_secret only for a confidential client, shown once: stored hashed)."""
    from django.utils import timezone
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    public = data["token_endpoint_auth_method"] == "none"
    secret = "" if public else secrets.token_urlsafe(40)
    app = Application(
        name=data["client_name"],
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(data["redirect_uris"]),
        skip_authorization=False,
        algorithm="",
        user=None,
    )
    if secret:
        app.client_secret = secret
    app.save()
    answer = {
        "client_id": app.client_id,
        "client_id_issued_at": int(timezone.now().timestamp()),
        **data,
    }
    if secret:
        answer.update(client_secret=secret, client_secret_expires_at=0)
    return answer


def _error(error: str, description: str, status: int) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@csrf_exempt
def register(request: HttpRequest) -> JsonResponse:
    from accounts.throttling import client_ip, counter_hit

    if request.method != "POST":
        return _error("invalid_request", "POST the client metadata as JSON.", 405)
    limit = int(getattr(settings, "MCP_OAUTH_REGISTRATIONS_PER_HOUR", 20))
    decision = counter_hit(key=f"mcp:oauth:register:{client_ip(request) or '-'}", limit=limit, window=3600)
    if not decision.allowed:
        response = _error("too_many_requests", f"At most {limit} client registrations an hour from one address.", 429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    if len(request.body) > MAX_BODY:
        return _error("invalid_client_metadata", "The client metadata is too large.", 400)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        return _error("invalid_client_metadata", "The body is not JSON.", 400)
    try:
        data = registration_validate(body)
    except RegistrationError as exc:
        return _error(exc.error, exc.description, 400)
    response = JsonResponse(client_register(data=data), status=201)
    response["Cache-Control"] = "no-store"
    return response
