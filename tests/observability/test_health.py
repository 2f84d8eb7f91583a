"""/health, /ready and /metrics as an operator's probe and Prometheus see them."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings

from observability import checks
from observability.logs import ContextFilter, JsonFormatter, log_context
from observability.prom import STREAM_RECONNECTS

pytestmark = pytest.mark.django_db


def test_health_answers_without_touching_anything():
    response = Client().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_every_backing_service(monkeypatch):
    # The simulator is not running in this test: point the check at a closed loopback port.
    with override_settings(SETKA_SIMULATOR_URL="http://127.0.0.1:9"):
        response = Client().get("/ready")
    body = response.json()
    assert set(body["checks"]) == {"database", "redis", "broker", "simulator"}
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["simulator"]["ok"] is False
    assert "Connection" in body["checks"]["simulator"]["error"]
    assert response.status_code == 503 and body["status"] == "not_ready"


def test_ready_is_ready_when_every_check_passes(monkeypatch):
    monkeypatch.setitem(checks.CHECKS, "simulator", lambda: None)
    response = Client().get("/ready")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"


def test_metrics_exposes_runtime_figures_and_honours_the_token():
    STREAM_RECONNECTS.labels(venue="bybit").inc()
    response = Client().get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "setka_stream_reconnects_total" in text
    assert "setka_tick_seconds" in text
    assert "django_http_requests" in text  # django-prometheus's request figures
    with override_settings(SETKA_METRICS_TOKEN="s3cret-metrics"):
        assert Client().get("/metrics").status_code == 401
        ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
        assert ok.status_code == 200


def test_probes_are_not_swallowed_by_the_single_page_app():
    assert Client().get("/health").headers["Content-Type"].startswith("application/json")
    assert Client().get("/metrics").headers["Content-Type"].startswith("text/plain")


def test_json_log_lines_carry_the_bound_ids():
    record = logging.LogRecord("bots.tick", logging.WARNING, __file__, 1, "order %s rejected", ("sk1-1-3B0",), None)
    with log_context(bot_id=17, account_id=4):
        with log_context(venue="okx"):
            ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "order sk1-1-3B0 rejected"
    assert (line["bot_id"], line["account_id"], line["venue"]) == (17, 4, "okx")
    assert line["level"] == "WARNING" and line["logger"] == "bots.tick"
    # Outside the block nothing is bound any more.
    bare = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    ContextFilter().filter(bare)
    assert "bot_id" not in json.loads(JsonFormatter().format(bare))
