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
