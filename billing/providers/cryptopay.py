"""Crypto Pay (@CryptoBot) for USDT, sold by the non-Russian seller entity (settings). A small
client over `requests` speaking its HTTP API (`Crypto-Pay-API-Token` header, {"ok", "result"}
answers); the async `aiocryptopay` would need an event loop inside Django's sync services.

Callbacks are signed: hex HMAC-SHA256 of the raw body with key SHA-256(token), in the
`crypto-pay-api-signature` header. Even a correctly signed callback is confirmed by fetching the
invoice (getInvoices) before billing acts on it."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import requests
from django.conf import settings

from billing.providers.base import (
    CallbackEvent,
    CallbackRejected,
    ProviderError,
    ProviderPayment,
    ProviderStatus,
)

TIMEOUT = 10
_STATUS = {"active": ProviderStatus.PENDING, "paid": ProviderStatus.SUCCEEDED, "expired": ProviderStatus.CANCELED}


def signature(*, token: str, body: bytes) -> str:
    """The signature Crypto Pay puts in `crypto-pay-api-signature` (the fake signs with this)."""
    secret = hashlib.sha256(token.encode()).digest()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _from_wire(invoice: dict) -> ProviderPayment:
    return ProviderPayment(
        provider_payment_id=str(invoice["invoice_id"]),
        status=_STATUS.get(str(invoice.get("status")), ProviderStatus.PENDING),
        amount=Decimal(str(invoice.get("amount", "0"))),
        currency=str(invoice.get("asset") or invoice.get("fiat") or ""),
        confirmation_url=str(invoice.get("bot_invoice_url") or invoice.get("pay_url") or ""),
        method_title=f"{invoice.get('paid_asset') or invoice.get('asset', '')} (Crypto Pay)",
        metadata={"payload": invoice.get("payload", "")},
    )


class CryptoPayProvider:
    code = "cryptopay"
    currency = "USDT"
    methods: tuple[str, ...] = ("usdt",)

    def _call(self, method: str, params: dict) -> dict | list:
        url = f"{settings.SETKA_CRYPTOPAY_API_URL.rstrip('/')}/{method}"
        try:
            response = requests.post(
                url, json=params, headers={"Crypto-Pay-API-Token": settings.SETKA_CRYPTOPAY_TOKEN}, timeout=TIMEOUT
            )
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderError(f"Crypto Pay unreachable: {type(exc).__name__}") from exc
        if not data.get("ok"):
            raise ProviderError(f"Crypto Pay error: {(data.get('error') or {}).get('name', 'unknown')}")
        return data["result"]

    def payment_create(self, *, payment, return_url: str, customer_email: str) -> ProviderPayment:
        invoice = self._call(
            "createInvoice",
            {
                "currency_type": "crypto",
                "asset": "USDT",
                "amount": f"{payment.amount:.2f}",
                "description": f"Setka: {payment.plan.name_en} ({payment.period_days} days)"[:1024],
                "payload": str(payment.idempotence_key),
                "paid_btn_name": "callback",
                "paid_btn_url": return_url,
                "allow_comments": False,
                "allow_anonymous": False,
                "expires_in": 3600,
            },
        )
        assert isinstance(invoice, dict)  # createInvoice answers one invoice object
        return _from_wire(invoice)

    def payment_fetch(self, *, provider_payment_id: str) -> ProviderPayment:
        result = self._call("getInvoices", {"invoice_ids": str(provider_payment_id)})
        items = result.get("items", []) if isinstance(result, dict) else result
        if not items:
            raise ProviderError(f"Crypto Pay knows no invoice {provider_payment_id}")
        return _from_wire(items[0])

    def refund_create(self, *, payment, amount: Decimal, idempotence_key: str) -> str:
        """Crypto Pay has no refund call: an operator sends the coins back by transfer and records
        the refund in admin (billing.services.payment_refund with provider_call=False)."""
        raise ProviderError("Crypto Pay has no refunds API; refund by transfer and record it manually.")

    def callback_parse(self, *, body: bytes, headers: dict, remote_addr: str | None) -> CallbackEvent:
        given = headers.get("crypto-pay-api-signature", "")
        if not given or not hmac.compare_digest(given, signature(token=settings.SETKA_CRYPTOPAY_TOKEN, body=body)):
            raise CallbackRejected("bad_signature")
        try:
            data = json.loads(body)
            update_id = int(data["update_id"])
            kind = str(data["update_type"])
            invoice_id = str(data["payload"]["invoice_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CallbackRejected("malformed") from exc
        if kind != "invoice_paid":
            raise CallbackRejected("unknown_event")
        return CallbackEvent(event_id=str(update_id), event_type=kind, provider_payment_id=invoice_id, payload=data)
