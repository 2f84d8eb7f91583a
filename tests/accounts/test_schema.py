"""The auth endpoints are in the OpenAPI schema, documented without generator warnings."""

from __future__ import annotations

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


def test_auth_endpoints_in_schema_without_warnings():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    ours = [
        m
        for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "accounts/apis" in m or "accounts/serializers" in m or "/api/auth/" in m
    ]
    assert ours == []
    paths = schema["paths"]
    for path, method in [
        ("/api/auth/signup/", "post"),
        ("/api/auth/login/", "post"),
        ("/api/auth/refresh/", "post"),
        ("/api/auth/session/", "get"),
        ("/api/auth/sessions/{session_id}/", "delete"),
        ("/api/auth/me/", "patch"),
    ]:
        assert method in paths[path], path
    assert schema["components"]["securitySchemes"]["cookieAuth"]["in"] == "cookie"


def test_auth_endpoints_describe_their_real_answers():
    """Issue 9, item 6: status codes and bodies as the endpoints really answer them."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    error = schema["components"]["schemas"]["ApiError"]
    assert {"detail", "code", "fields"} <= set(error["properties"]) and set(error["required"]) == {"detail", "code"}

    def answers(path, method):
        return paths[path][method]["responses"]

    def body_ref(response):
        return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    login = answers("/api/auth/login/", "post")
    assert set(login) >= {"200", "400", "403", "429"}
    assert body_ref(login["400"]) == body_ref(login["429"]) == "ApiError"
    assert "Retry-After" in login["429"]["headers"]
    signup = answers("/api/auth/signup/", "post")
    assert body_ref(signup["201"]) == "AuthSignedUp" and set(signup) >= {"201", "400", "403", "429"}
    assert set(answers("/api/auth/refresh/", "post")) >= {"200", "401", "429"}
    assert set(answers("/api/auth/password/change/", "post")) >= {"200", "400", "401", "429"}
    assert "Retry-After" in answers("/api/auth/password/change/", "post")["429"]["headers"]
    assert set(answers("/api/auth/phone/", "post")) >= {"200", "400", "401", "429", "503"}
    assert set(answers("/api/auth/sessions/{session_id}/", "delete")) >= {"204", "401", "404"}
    assert set(answers("/api/auth/login/unlock/", "post")) >= {"200", "400", "429"}
