"""A fake Crypto Pay (@CryptoBot) API: `/api/{method}` (getMe, createInvoice, getInvoices) with
the `Crypto-Pay-API-Token` header and {"ok": ..., "result"/"error"} answers, a hosted invoice
page where the payer clicks "pay", and webhook updates signed as Crypto Pay signs them: hex
HMAC-SHA256 of the raw body with key SHA-256(token) in `crypto-pay-api-signature`.

Transfers (`transfer`: user_id, asset, amount, spend_id; `getTransfers`): from the app's balance
to a Telegram user, at once ("completed"); a repeated spend_id returns the transfer it made (the
same spend_id is accepted only once). Crypto Pay's invoice tells nothing about who paid it.

Test controls: pay(), expire(), tamper_amount(), send_update() (re-send, replay or forge);
`balance` (the app's USDT for transfers), `fail_next_transfer_answer` (the transfer is made, the
answer lost)."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from billing.fakes.server import FakeServer, Request, Response, post

ASSETS = {"USDT", "TON", "BTC", "ETH", "USDC"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sign(token: str, body: bytes) -> str:
    return hmac.new(hashlib.sha256(token.encode()).digest(), body, hashlib.sha256).hexdigest()


def _fail(code: int, name: str) -> Response:
    return Response(200 if code < 500 else code, {"ok": False, "error": {"code": code, "name": name}})


class FakeCryptoPay(FakeServer):
    def __init__(self, *, token: str, webhook_url: str = "", port: int = 0):
        super().__init__(port=port)
        self.token, self.webhook_url = token, webhook_url
        self.invoices: dict[int, dict] = {}
        self.next_invoice_id = 1000
        self.next_update_id = 1
        self.transfers: dict[int, dict] = {}
        self.next_transfer_id = 500
        self.balance = Decimal("100000")
        self.fail_next_transfer_answer = False
        self.outbox: list[tuple[bytes, dict]] = []  # (body, headers) of every update
        self.delivered: list[tuple[int, int]] = []  # (update_id, HTTP status)

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/invoice/"):
            return self._page(request, path)
        if not path.startswith("/api/"):
            return Response(404, {"ok": False, "error": {"code": 404, "name": "METHOD_NOT_FOUND"}})
        if request.headers.get("crypto-pay-api-token") != self.token:
            return _fail(401, "UNAUTHORIZED")
        params = {**request.query, **(request.json() if request.method == "POST" else {})}
        method = path.split("/", 2)[2]
        with self.lock:
            if method == "getMe":
                return Response(
                    200,
                    {
                        "ok": True,
                        "result": {
                            "app_id": 1,
                            "name": "Setka (fake)",
                            "payment_processing_bot_username": "CryptoTestnetBot",
                        },
                    },
                )
            if method == "createInvoice":
                return self._create(params)
            if method == "transfer":
                response = self._transfer(params)
                if self.fail_next_transfer_answer and b'"ok": true' in response.body:
                    self.fail_next_transfer_answer = False
                    return Response(502, b"Bad Gateway", "text/plain")
                return response
            if method == "getTransfers":
                spend_id = str(params.get("spend_id", ""))
                ids = [int(x) for x in str(params.get("transfer_ids", "")).split(",") if x.strip().isdigit()]
                items = [
                    t
                    for t in self.transfers.values()
                    if (not ids or t["transfer_id"] in ids) and (not spend_id or t["spend_id"] == spend_id)
                ]
                return Response(200, {"ok": True, "result": {"items": items}})
            if method == "getInvoices":
                ids = [int(x) for x in str(params.get("invoice_ids", "")).split(",") if x.strip().isdigit()]
                items = [self.invoices[i] for i in ids if i in self.invoices] if ids else list(self.invoices.values())
                return Response(200, {"ok": True, "result": {"items": items}})
        return Response(200, {"ok": False, "error": {"code": 405, "name": "METHOD_NOT_FOUND"}})

    def _create(self, params: dict) -> Response:
        asset = str(params.get("asset", ""))
        try:
            amount = Decimal(str(params.get("amount", "")))
        except InvalidOperation:
            return _fail(400, "AMOUNT_INVALID")
        if asset not in ASSETS:
            return _fail(400, "ASSET_INVALID")
        if amount <= 0:
            return _fail(400, "AMOUNT_TOO_SMALL")
        self.next_invoice_id += 1
        invoice_hash = "IV" + secrets.token_hex(6)
        invoice: dict[str, Any] = {
            "invoice_id": self.next_invoice_id,
            "hash": invoice_hash,
            "currency_type": "crypto",
            "asset": asset,
            "amount": str(params.get("amount")),
            "bot_invoice_url": f"{self.url}/invoice/{invoice_hash}",
            "mini_app_invoice_url": f"{self.url}/invoice/{invoice_hash}",
            "web_app_invoice_url": f"{self.url}/invoice/{invoice_hash}",
            "description": str(params.get("description", "")),
            "status": "active",
            "created_at": _now(),
            "allow_comments": bool(params.get("allow_comments", True)),
            "allow_anonymous": bool(params.get("allow_anonymous", True)),
            "payload": str(params.get("payload", "")),
            "paid_btn_name": params.get("paid_btn_name"),
            "paid_btn_url": params.get("paid_btn_url"),
        }
        self.invoices[invoice["invoice_id"]] = invoice
        return Response(200, {"ok": True, "result": invoice})

    def _transfer(self, params: dict) -> Response:
        spend_id = str(params.get("spend_id", ""))
        if not spend_id or len(spend_id) > 64:
            return _fail(400, "SPEND_ID_INVALID")
        for transfer in self.transfers.values():
            if transfer["spend_id"] == spend_id:
                return Response(200, {"ok": True, "result": transfer})
        try:
            user_id = int(params.get("user_id", ""))
            amount = Decimal(str(params.get("amount", "")))
        except (ValueError, InvalidOperation):
            return _fail(400, "PARAMS_INVALID")
        if str(params.get("asset", "")) not in ASSETS:
            return _fail(400, "ASSET_INVALID")
        if user_id <= 0:
            return _fail(400, "USER_NOT_FOUND")
        if amount <= 0:
            return _fail(400, "AMOUNT_TOO_SMALL")
        if amount > self.balance:
            return _fail(400, "INSUFFICIENT_FUNDS")
        self.balance -= amount
        self.next_transfer_id += 1
        transfer = {
            "transfer_id": self.next_transfer_id,
            "spend_id": spend_id,
            "user_id": user_id,
            "asset": str(params["asset"]),
            "amount": str(params["amount"]),
            "status": "completed",
            "completed_at": _now(),
            "comment": str(params.get("comment", "")),
        }
        self.transfers[transfer["transfer_id"]] = transfer
        return Response(200, {"ok": True, "result": transfer})

    def _by_hash(self, invoice_hash: str) -> dict | None:
        return next((i for i in self.invoices.values() if i["hash"] == invoice_hash), None)

    def _page(self, request: Request, path: str) -> Response:
        parts = path.split("/")
        invoice = self._by_hash(parts[2]) if len(parts) > 2 else None
        if invoice is None:
            return Response(404, "<h1>Invoice not found</h1>", "text/html; charset=utf-8")
        if request.method == "POST" and len(parts) == 4 and parts[3] == "pay":
            if invoice["status"] == "active":
                self.pay(invoice["invoice_id"])
            return Response(302, b"", "text/html", {"Location": invoice.get("paid_btn_url") or "/"})
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crypto Pay (test)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:28rem;margin:2rem auto">
<p>Test invoice · fake Crypto Pay</p>
<h1 data-testid="fake-amount">{html.escape(invoice["amount"])} {html.escape(invoice["asset"])}</h1>
<p>{html.escape(invoice["description"])}</p><p>Status: <b data-testid="fake-status">{invoice["status"]}</b></p>
<form method="post" action="/invoice/{invoice["hash"]}/pay"><button type="submit" data-testid="fake-pay">Pay</button></form>
</body></html>"""
        return Response(200, page, "text/html; charset=utf-8")

    # --- controls -----------------------------------------------------------------------------
    def pay(self, invoice_id: int) -> dict:
        with self.lock:
            invoice = self.invoices[invoice_id]
            invoice.update(
                status="paid",
                paid_at=_now(),
                paid_asset=invoice["asset"],
                paid_amount=invoice["amount"],
                fee_asset=invoice["asset"],
                fee_amount=f"{Decimal(invoice['amount']) * Decimal('0.03'):.8f}",
                paid_anonymously=False,
                paid_usd_rate="1.00",
            )
            snapshot = dict(invoice)
        self.send_update(snapshot)
        return snapshot

    def expire(self, invoice_id: int) -> None:
        with self.lock:
            self.invoices[invoice_id]["status"] = "expired"

    def tamper_amount(self, invoice_id: int, amount: str, asset: str | None = None) -> None:
        with self.lock:
            self.invoices[invoice_id]["amount"] = amount
            if asset:
                self.invoices[invoice_id]["asset"] = asset

    def update_body(self, invoice: dict, *, update_id: int | None = None) -> bytes:
        if update_id is None:
            update_id, self.next_update_id = self.next_update_id, self.next_update_id + 1
        return json.dumps(
            {"update_id": update_id, "update_type": "invoice_paid", "request_date": _now(), "payload": invoice}
        ).encode()

    def send_update(self, invoice: dict, *, body: bytes | None = None) -> int:
        body = body or self.update_body(invoice)
        headers = {"Content-Type": "application/json", "crypto-pay-api-signature": sign(self.token, body)}
        self.outbox.append((body, headers))
        if not self.webhook_url:
            return 0
        status = post(self.webhook_url, body, headers)
        self.delivered.append((json.loads(body)["update_id"], status))
        return status
