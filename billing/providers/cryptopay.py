"""Crypto Pay (@CryptoBot) for USDT, sold by the non-Russian seller entity (settings). A small
client over `requests` speaking its HTTP API (`Crypto-Pay-API-Token` header, {"ok", "result"}
answers); the async `aiocryptopay` would need an event loop inside Django's sync services.

Callbacks are signed: hex HMAC-SHA256 of the raw body with key SHA-256(token), in the
`crypto-pay-api-signature` header. Even a correctly signed callback is confirmed by fetching the
invoice (getInvoices) before billing acts on it.

Payouts are `transfer`s from the app's balance to a Telegram user; `spend_id` (our key) makes
them idempotent and findable (getTransfers) when an answer was lost. The Invoice object carries
no payer identity, so a Crypto Pay payment has no instrument fingerprint."""

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
    PayoutRejected,
    ProviderError,
    ProviderPayment,
    ProviderPayout,
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


# Errors after which the transfer was certainly not made.
_TRANSFER_REFUSED = {
    "USER_NOT_FOUND",
    "AMOUNT_TOO_SMALL",
    "AMOUNT_TOO_BIG",
    "ASSET_INVALID",
    "PARAMS_INVALID",
    "INSUFFICIENT_FUNDS",
    "SPEND_ID_INVALID",
    "USER_BLOCKED",
    "TRANSFER_NOT_ALLOWED",
}


def _transfer_from_wire(transfer: dict) -> ProviderPayout:
    return ProviderPayout(
        provider_payout_id=str(transfer["transfer_id"]),
        status=ProviderStatus.SUCCEEDED if transfer.get("status") == "completed" else ProviderStatus.PENDING,
        amount=Decimal(str(transfer.get("amount", "0"))),
        currency=str(transfer.get("asset", "")),
    )


class CryptoPayProvider:
    code = "cryptopay"
    currency = "USDT"
    methods: tuple[str, ...] = ("usdt",)

    def _call(self, method: str, params: dict, *, refused: frozenset[str] | set[str] = frozenset()) -> dict | list:
        url = f"{settings.SETKA_CRYPTOPAY_API_URL.rstrip('/')}/{method}"
        try:
            response = requests.post(
                url, json=params, headers={"Crypto-Pay-API-Token": settings.SETKA_CRYPTOPAY_TOKEN}, timeout=TIMEOUT
            )
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderError(f"Crypto Pay unreachable: {type(exc).__name__}") from exc
        if not data.get("ok"):
            name = (data.get("error") or {}).get("name", "unknown")
            if name in refused:
                raise PayoutRejected(f"Crypto Pay refused: {name}")
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

    def payout(self, *, amount: Decimal, currency: str, destination: str, idempotency_key: str) -> ProviderPayout:
        kind, _, user_id = destination.partition(":")
        if currency != "USDT" or kind != "telegram":
            raise PayoutRejected("Crypto Pay pays USDT to a Telegram user.")
        transfer = self._call(
            "transfer",
            {
                "user_id": int(user_id),
                "asset": "USDT",
                "amount": f"{amount:.2f}",
                "spend_id": idempotency_key[:64],
                "comment": "Setka payout",
            },
            refused=_TRANSFER_REFUSED,
        )
        assert isinstance(transfer, dict)  # transfer answers one Transfer object
        return _transfer_from_wire(transfer)

    def payout_fetch(self, *, provider_payout_id: str, idempotency_key: str) -> ProviderPayout | None:
        params = {"transfer_ids": provider_payout_id} if provider_payout_id else {"spend_id": idempotency_key[:64]}
        result = self._call("getTransfers", {"asset": "USDT", **params})
        items = result.get("items", []) if isinstance(result, dict) else result
        return _transfer_from_wire(items[0]) if items else None
