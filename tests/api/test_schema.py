"""The OpenAPI schema of the bots/trades/metrics API is complete and valid."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

MY_VIEWS = re.compile(
    r"\[(Bot\w*Api|Trade\w*Api|DashboardApi|UserMetricsApi)\]|bots/apis|trading/apis|metrics/apis|bots/serializers|trading/serializers|metrics/serializers"
)
MY_OPERATIONS = {
    ("/api/bots/", "get"),
    ("/api/bots/", "post"),
    ("/api/bots/preview/", "post"),
    ("/api/bots/{id}/", "get"),
    ("/api/bots/{id}/", "delete"),
    ("/api/bots/{id}/start/", "post"),
    ("/api/bots/{id}/stop/", "post"),
    ("/api/bots/{id}/emergency-stop/", "post"),
    ("/api/bots/{id}/events/", "get"),
    ("/api/bots/{id}/orders/", "get"),
    ("/api/bots/{id}/metrics/", "get"),
    ("/api/bots/{id}/metrics/series/", "get"),
    ("/api/trades/", "get"),
    ("/api/trades/export.csv", "get"),
    ("/api/dashboard/", "get"),
    ("/api/metrics/", "get"),
}


def test_schema_is_valid_and_has_no_warning_from_our_views():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    ours = [msg for msg in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if MY_VIEWS.search(msg)]
    ours = [m for m in ours if "could not resolve authenticator" not in m]  # accounts' auth class (theirs)
    assert ours == []
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert MY_OPERATIONS <= operations
    trade = schema["components"]["schemas"]["Trade"]["properties"]
    assert trade["price"]["type"] == "string" and trade["price"].get("format") == "decimal"
    params = {p["name"] for p in schema["paths"]["/api/trades/"]["get"]["parameters"]}
    assert {"bot", "symbol", "side", "date_from", "date_to", "cursor", "page_size"} <= params
    export = schema["paths"]["/api/trades/export.csv"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in export


@pytest.mark.django_db
def test_schema_and_docs_are_served(api_client):
    assert api_client.get("/api/schema/").status_code == 200
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200 and b"redoc" in docs.content.lower()


def test_manage_py_spectacular_validate_fail_on_warn(tmp_path):
    """The whole project's schema: `manage.py spectacular --validate --fail-on-warn` passes."""
    import yaml
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert "/api/trades/export.csv" in schema["paths"] and "/api/dashboard/" in schema["paths"]
