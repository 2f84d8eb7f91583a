"""OpenAPI (drf-spectacular): the access cookie as the API's security scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

_COOKIE = {"type": "apiKey", "in": "cookie", "name": "setka_access"}


class CookieTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.CookieTokenAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {
            **_COOKIE,
            "description": "Short-lived access token set by /api/auth/login/; unsafe methods also need X-CSRFToken.",
        }


class LenientCookieTokenScheme(OpenApiAuthenticationExtension):
    """The auth endpoints themselves: the cookie is optional and an unusable one is ignored."""

    target_class = "accounts.authentication.LenientCookieTokenAuthentication"
    name = "cookieAuthOptional"

    def get_security_definition(self, auto_schema):
        return {**_COOKIE, "description": "Optional on the auth endpoints; a stale cookie is ignored."}
