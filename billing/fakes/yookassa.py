"""A fake YooKassa: REST API v3 (`/v3/payments`, `/v3/payments/{id}`, `/v3/refunds`, HTTP Basic
auth with shop id and secret key, `Idempotence-Key`), a hosted payment page where the payer
clicks "pay" (bank card or SBP), and HTTP notifications sent as YooKassa sends them: unsigned
JSON `{"type": "notification", "event": ..., "object": ...}` from the shop's configured address.

Payouts (`/v3/payouts`, `/v3/payouts/{id}`): a bank card (`payout_destination_data.card.number`,
Luhn-checked) or a YooMoney wallet; `pending` until settled, then `succeeded` or `canceled` with
`cancellation_details`, notified as `payout.succeeded` / `payout.canceled`.

Test controls: pay() (with the card the payer used), cancel(), refund_from_dashboard() (a refund or
chargeback made on YooKassa's side), tamper_amount(), notify() (re-send or forge an event);
payout_settle() and `settle_payouts` (settle each new payout at once), `fail_next_payout_answer`
(the payout is made but the answer is lost: a timeout as the client sees it)."""

from __future__ import annotations

import base64
import html
import json
import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from billing.fakes.server import FakeServer, Request, Response, post

TITLES = {"bank_card": "Bank card *4444", "sbp": "СБП"}
TEST_CARD = "5555555555554444"


def luhn_complete(prefix: str) -> str:
    """`prefix` + the check digit that makes it pass Luhn."""
    for digit in "0123456789":
        if luhn_ok(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable")


def random_card() -> str:
    """A fresh test card (each payer their own unless a test names one)."""
    return luhn_complete("2200" + "".join(str(secrets.randbelow(10)) for _ in range(11)))


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_details(number: str, *, expiry: tuple[str, str] = ("12", "2030")) -> dict:
    """The card object YooKassa returns for a card (never the full number)."""
    brand = {"4": "Visa", "5": "MasterCard", "2": "Mir"}.get(number[:1], "Unknown")
    return {
        "first6": number[:6],
        "last4": number[-4:],
        "expiry_month": expiry[0],
        "expiry_year": expiry[1],
        "card_type": brand,
        "issuer_country": "RU",
        "issuer_name": "Fake Bank",
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(status: int, code: str, description: str, parameter: str = "") -> Response:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return Response(status, body)


class FakeYooKassa(FakeServer):
    def __init__(self, *, shop_id: str, secret_key: str, webhook_url: str = "", port: int = 0):
        super().__init__(port=port)
        self.shop_id, self.secret_key, self.webhook_url = shop_id, secret_key, webhook_url
        self.payments: dict[str, dict] = {}
        self.payouts: dict[str, dict] = {}
        self.settle_payouts: str | None = None  # "succeeded" / "canceled": settle each payout at once
        self.fail_next_payout_answer = False
        self.refunds: dict[str, dict] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotence key -> (kind, id)
        self.delivered: list[tuple[str, str, int]] = []  # (event, object id, HTTP status)
        self.outbox: list[bytes] = []  # every notification body, delivered or not
        self._queued: list[tuple[str, dict]] = []  # sent once the lock is released

    # --- wire ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        try:
            return self._handle(request)
        finally:
            self._flush()

    def _flush(self) -> None:
        with self.lock:
            queued, self._queued = self._queued, []
        for event, obj in queued:
            self.notify(event, obj)

    def _handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/checkout/"):
            return self._checkout(request, path)
        if not path.startswith("/v3/"):
            return _error(404, "not_found", "Unknown path")
        if not self._authorized(request):
            return _error(401, "invalid_credentials", "Basic auth: shopId and secret key are required")
        with self.lock:
            if request.method == "POST" and path == "/v3/payments":
                return self._idempotent(request, "payment", self._payment_create)
            if request.method == "GET" and path.startswith("/v3/payments/"):
                payment = self.payments.get(path.rsplit("/", 1)[1])
                return Response(200, payment) if payment else _error(404, "not_found", "Payment not found")
            if request.method == "POST" and path == "/v3/refunds":
                return self._idempotent(request, "refund", self._refund_create)
            if request.method == "POST" and path == "/v3/payouts":
                response = self._idempotent(request, "payout", self._payout_create)
                if self.fail_next_payout_answer and response.status == 200:
                    self.fail_next_payout_answer = False
                    return _error(500, "internal_server_error", "Lost answer (the payout was made)")
                return response
            if request.method == "GET" and path.startswith("/v3/payouts/"):
                payout = self.payouts.get(path.rsplit("/", 1)[1])
                return Response(200, payout) if payout else _error(404, "not_found", "Payout not found")
            if request.method == "GET" and path.startswith("/v3/refunds/"):
                refund = self.refunds.get(path.rsplit("/", 1)[1])
                return Response(200, refund) if refund else _error(404, "not_found", "Refund not found")
        return _error(404, "not_found", "Unknown method")

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            shop, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return shop == self.shop_id and secret == self.secret_key

    def _idempotent(self, request: Request, kind: str, create) -> Response:
        key = request.headers.get("idempotence-key", "")
        if not key:
            return _error(400, "invalid_request", "Idempotence-Key header is required", "Idempotence-Key")
        if key in self.keys:
            stored_kind, stored_id = self.keys[key]
            store = {"payment": self.payments, "refund": self.refunds, "payout": self.payouts}[stored_kind]
            return Response(200, store[stored_id])
        response = create(request.json())
        if response.status == 200:
            self.keys[key] = (kind, json.loads(response.body)["id"])
        return response

    @staticmethod
    def _amount(data) -> dict | None:
        try:
            value = Decimal(str(data["value"]))
            currency = str(data["currency"])
        except (KeyError, TypeError, InvalidOperation):
            return None
        if value <= 0 or value != value.quantize(Decimal("0.01")) or currency not in ("RUB", "USD", "EUR"):
            return None
        return {"value": f"{value:.2f}", "currency": currency}

    def _payment_create(self, body: dict) -> Response:
        amount = self._amount(body.get("amount"))
        if amount is None:
            return _error(400, "invalid_request", "Invalid amount", "amount")
        receipt = body.get("receipt") or {}
        items = receipt.get("items") or []
        if (
            not items
            or not (receipt.get("customer") or {}).get("email")
            and not (receipt.get("customer") or {}).get("phone")
        ):
            return _error(
                400, "invalid_request", "Receipt with items and customer contact is required (54-FZ)", "receipt"
            )
        total = sum(Decimal(str(i["amount"]["value"])) * Decimal(str(i["quantity"])) for i in items)
        if total != Decimal(amount["value"]):
            return _error(400, "invalid_request", "Receipt items do not add up to the amount", "receipt.items")
        confirmation = body.get("confirmation") or {}
        if confirmation.get("type") != "redirect" or not confirmation.get("return_url"):
            return _error(
                400, "invalid_request", "confirmation.type=redirect with return_url is required", "confirmation"
            )
        method = (body.get("payment_method_data") or {}).get("type", "")
        if method and method not in TITLES:
            return _error(400, "invalid_request", "Unsupported payment method", "payment_method_data.type")
        payment_id = f"{uuid.uuid4().hex[:8]}-000f-5000-9000-{uuid.uuid4().hex[:12]}"
        payment = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": amount,
            "confirmation": {
                "type": "redirect",
                "return_url": confirmation["return_url"],
                "confirmation_url": f"{self.url}/checkout/{payment_id}",
            },
            "created_at": _now(),
            "description": body.get("description", ""),
            "metadata": body.get("metadata") or {},
            "recipient": {"account_id": self.shop_id, "gateway_id": "100700"},
            "refundable": False,
            "test": True,
        }
        if method:
            payment["payment_method"] = {"type": method, "id": payment_id, "saved": False}
        self.payments[payment_id] = payment
        return Response(200, payment)

    def _payout_create(self, body: dict) -> Response:
        amount = self._amount(body.get("amount"))
        if amount is None or amount["currency"] != "RUB":
            return _error(400, "invalid_request", "Invalid amount", "amount")
        data = body.get("payout_destination_data") or {}
        kind = data.get("type")
        if kind == "bank_card":
            number = str((data.get("card") or {}).get("number", ""))
            if not luhn_ok(number):
                return _error(400, "invalid_request", "Invalid card number", "payout_destination_data.card.number")
            destination = {
                "type": "bank_card",
                "card": {k: v for k, v in card_details(number).items() if "expiry" not in k},
            }
        elif kind == "yoo_money":
            account = str(data.get("account_number", ""))
            if not account.isdigit() or not 11 <= len(account) <= 20:
                return _error(400, "invalid_request", "Invalid wallet number", "payout_destination_data.account_number")
            destination = {"type": "yoo_money", "account_number": account}
        else:
            return _error(400, "invalid_request", "Unsupported payout destination", "payout_destination_data.type")
        payout_id = f"po-{uuid.uuid4().hex[:8]}-0001-5000-9000-{uuid.uuid4().hex[:12]}"
        payout = {
            "id": payout_id,
            "amount": amount,
            "status": "pending",
            "payout_destination": destination,
            "description": str(body.get("description", ""))[:128],
            "created_at": _now(),
            "metadata": body.get("metadata") or {},
            "test": True,
        }
        self.payouts[payout_id] = payout
        if self.settle_payouts:
            self._settle(payout, self.settle_payouts)
        return Response(200, payout)

    def _settle(self, payout: dict, status: str, reason: str = "rejected_by_payee") -> None:
        if payout["status"] != "pending":
            return
        payout["status"] = status
        if status == "canceled":
            payout["cancellation_details"] = {"party": "yoo_money", "reason": reason}
        self._queued.append((f"payout.{status}", dict(payout)))

    def _refund_create(self, body: dict) -> Response:
        payment = self.payments.get(str(body.get("payment_id", "")))
        amount = self._amount(body.get("amount"))
        if payment is None:
            return _error(404, "not_found", "Payment not found", "payment_id")
        if amount is None or payment["status"] != "succeeded":
            return _error(400, "invalid_request", "Payment is not refundable", "payment_id")
        already = Decimal((payment.get("refunded_amount") or {}).get("value", "0"))
        if already + Decimal(amount["value"]) > Decimal(payment["amount"]["value"]):
            return _error(400, "invalid_request", "Refund exceeds the payment", "amount")
        return Response(200, self._refund(payment, amount))

    def _refund(self, payment: dict, amount: dict) -> dict:
        already = Decimal((payment.get("refunded_amount") or {}).get("value", "0"))
        payment["refunded_amount"] = {
            "value": f"{already + Decimal(amount['value']):.2f}",
            "currency": amount["currency"],
        }
        refund = {
            "id": str(uuid.uuid4()),
            "payment_id": payment["id"],
            "status": "succeeded",
            "created_at": _now(),
            "amount": amount,
        }
        self.refunds[refund["id"]] = refund
        self._queued.append(("refund.succeeded", dict(refund)))
        return refund

    # --- the hosted payment page --------------------------------------------------------------
    def _checkout(self, request: Request, path: str) -> Response:
        parts = path.split("/")
        payment = self.payments.get(parts[2]) if len(parts) > 2 else None
        if payment is None:
            return Response(404, "<h1>Платёж не найден</h1>", "text/html; charset=utf-8")
        if request.method == "POST" and len(parts) == 4 and parts[3] in ("pay", "cancel"):
            if payment["status"] == "pending":
                if parts[3] == "pay":
                    form = request.form()
                    card = "".join(ch for ch in form.get("card", "") if ch.isdigit())
                    self.pay(
                        payment["id"],
                        method=form.get("method") or "bank_card",
                        card=card if luhn_ok(card) else "",
                    )
                else:
                    self.cancel(payment["id"])
            return Response(302, b"", "text/html", {"Location": payment["confirmation"]["return_url"]})
        amount = payment["amount"]
        fixed = (payment.get("payment_method") or {}).get("type", "")
        choices = "".join(
            f'<label><input type="radio" name="method" value="{m}" {"checked" if m == (fixed or "bank_card") else ""}'
            f"{' disabled' if fixed and m != fixed else ''}> {t}</label><br>"
            for m, t in (("bank_card", "Банковская карта"), ("sbp", "СБП"))
        )
        page = f"""<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>ЮKassa (тест)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:28rem;margin:2rem auto">
<p>Тестовый платёж · fake YooKassa</p>
<h1 data-testid="fake-amount">{html.escape(amount["value"])} {html.escape(amount["currency"])}</h1>
<p>{html.escape(payment.get("description", ""))}</p>
<p>Статус: <b data-testid="fake-status">{payment["status"]}</b></p>
<form method="post" action="/checkout/{payment["id"]}/pay">{choices}
<label>Номер карты <input name="card" data-testid="fake-card" value="{random_card()}" inputmode="numeric"></label><br>
<button type="submit" data-testid="fake-pay">Оплатить</button></form>
<form method="post" action="/checkout/{payment["id"]}/cancel"><button type="submit" data-testid="fake-cancel">Отменить</button></form>
</body></html>"""
        return Response(200, page, "text/html; charset=utf-8")

    # --- controls -----------------------------------------------------------------------------
    def payout_settle(self, payout_id: str, status: str = "succeeded", *, reason: str = "rejected_by_payee") -> dict:
        """The payout went through (succeeded) or failed (canceled, with the reason)."""
        with self.lock:
            payout = self.payouts[payout_id]
            self._settle(payout, status, reason)
        self._flush()
        return payout

    def pay(self, payment_id: str, *, method: str = "bank_card", card: str = "") -> dict:
        """The payer pays (by `card` when the method is a bank card: the payment then carries the
        card's first6/last4/expiry/issuer, as YooKassa returns them)."""
        with self.lock:
            payment = self.payments[payment_id]
            payment_method = {
                "type": method,
                "id": str(uuid.uuid4()),
                "saved": False,
                "title": TITLES.get(method, method),
            }
            if method == "bank_card":
                card = card or random_card()
                payment_method["card"] = card_details(card, expiry=(f"{int(card[-5:]) % 12 + 1:02d}", "2030"))
                payment_method["title"] = f"Bank card *{card[-4:]}"
            payment.update(
                status="succeeded",
                paid=True,
                captured_at=_now(),
                refundable=True,
                income_amount={
                    "value": f"{Decimal(payment['amount']['value']) * Decimal('0.965'):.2f}",
                    "currency": payment["amount"]["currency"],
                },
                payment_method=payment_method,
            )
        self.notify("payment.succeeded", dict(payment))
        return payment

    def cancel(self, payment_id: str) -> dict:
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(
                status="canceled", cancellation_details={"party": "yoo_money", "reason": "canceled_by_merchant"}
            )
        self.notify("payment.canceled", dict(payment))
        return payment

    def refund_from_dashboard(self, payment_id: str) -> dict:
        """A refund (or chargeback) made on YooKassa's side, not through our API."""
        with self.lock:
            payment = self.payments[payment_id]
            refund = self._refund(payment, dict(payment["amount"]))
        self._flush()
        return refund

    def tamper_amount(self, payment_id: str, value: str, currency: str | None = None) -> None:
        with self.lock:
            payment = self.payments[payment_id]
            payment["amount"] = {"value": value, "currency": currency or payment["amount"]["currency"]}

    def notify(self, event: str, obj: dict) -> int:
        """Send one notification as YooKassa does (no signature; the receiver checks the address)."""
        body = json.dumps({"type": "notification", "event": event, "object": obj}).encode()
        self.outbox.append(body)
        if not self.webhook_url:
            return 0
        status = post(self.webhook_url, body, {"Content-Type": "application/json"})
        self.delivered.append((event, obj["id"], status))
        return status
