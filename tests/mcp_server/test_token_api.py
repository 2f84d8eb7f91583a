"""The profile's access tokens over the REST API: shown once, hashed at rest, revocable,
another user's token unreachable; the audit log is the user's own."""

import pytest

from mcp_server.models import AuditEntry, PersonalAccessToken

pytestmark = pytest.mark.django_db


def test_create_list_revoke(pro_user, user_client, other_client):
    created = user_client.post("/api/mcp/tokens/", {"name": "Claude", "scope": "trade", "days": 30}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["token"].startswith("stk_") and body["scope"] == "trade" and body["active"]
    row = PersonalAccessToken.objects.get(pk=body["id"])
    assert body["token"] not in (row.token_hash, row.prefix) and body["token"].startswith(row.prefix)
    listed = user_client.get("/api/mcp/tokens/").json()
    assert [t["id"] for t in listed] == [body["id"]] and "token" not in listed[0]
    assert other_client.post(f"/api/mcp/tokens/{body['id']}/revoke/").status_code == 404
    revoked = user_client.post(f"/api/mcp/tokens/{body['id']}/revoke/").json()
    assert revoked["revoked_at"] and not revoked["active"]


def test_bad_input_and_free_plan(pro_user, user_client, other_client):
    bad = user_client.post("/api/mcp/tokens/", {"name": "x", "scope": "admin", "days": 9999}, format="json")
    assert bad.status_code == 400 and {"scope", "days"} <= set(bad.json()["fields"])
    free = other_client.post("/api/mcp/tokens/", {"name": "x"}, format="json")
    assert free.status_code in (402, 403) and free.json()["code"].startswith("plan_limit")


def test_audit_is_per_user(pro_user, pro_other, user_client):
    AuditEntry.objects.create(user=pro_user, tool="start_bot", outcome="ok", params={"bot_id": 1})
    AuditEntry.objects.create(user=pro_other, tool="stop_bot", outcome="ok", params={"bot_id": 2})
    assert [e["tool"] for e in user_client.get("/api/mcp/audit/").json()] == ["start_bot"]


def test_suggest_at_the_live_price(pro_user, user_client):
    answer = user_client.post(
        "/api/mcp/suggest/",
        {"symbol": "ETHUSDT", "budget": "1000", "risk": "medium", "price": "3000", "tick": "0.01"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    config = body["suggested"]["config"]
    assert body["price"] == "3000" and float(config["lower_price"]) < 3000 < float(config["upper_price"])
    assert "out_of_sample_roi_percent" in body["naive_best_of_last_7_days"]
    unknown = user_client.post("/api/mcp/suggest/", {"symbol": "DOGEUSDT", "budget": "1000"}, format="json")
    assert unknown.status_code == 400 and "ETHUSDT" in unknown.json()["detail"]
