"""YooKassa (roubles: cards and SBP) through its official SDK (`yookassa`), the only module that
imports it. The SDK's base URL comes from settings (the fake in billing/fakes in dev and tests).

YooKassa does not sign notifications. A notification is accepted only from the configured
networks (YooKassa's published ranges in production) and is never trusted for what it says:
the payment is fetched by id and the fetched state is what billing acts on."""

from __future__ import annotations

import ipaddress
import json
from decimal import Decimal

from django.conf import settings

from billing.payout_destinations import destination_kind
from billing.providers.base import (
    CallbackEvent,
    CallbackRejected,
    PayoutRejected,
    ProviderError,
    ProviderPayment,
    ProviderPayout,
    ProviderStatus,
)

EVENTS = {
    "payout.succeeded",
    "payout.canceled",
    "payment.succeeded",
    "payment.canceled",
    "payment.waiting_for_capture",
    "refund.succeeded",
}
_STATUS = {
    "pending": ProviderStatus.PENDING,
    "waiting_for_capture": ProviderStatus.PENDING,
    "succeeded": ProviderStatus.SUCCEEDED,
    "canceled": ProviderStatus.CANCELED,
}


def configure() -> None:
    """Point the SDK's process-wide Configuration at settings (called before every request)."""
    from yookassa import Configuration

    Configuration.configure(
        settings.SETKA_YOOKASSA_SHOP_ID,
        settings.SETKA_YOOKASSA_SECRET_KEY,
        api_url=settings.SETKA_YOOKASSA_API_URL,
        max_attempts=1,
    )


def address_trusted(remote_addr: str | None) -> bool:
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.SETKA_YOOKASSA_WEBHOOK_NETWORKS)


def receipt_for(*, payment, customer_email: str) -> dict:
    """54-FZ receipt data: the buyer's contact, one line per service with VAT code, payment mode
    and subject, and the seller's tax system."""
    plan = payment.plan
    return {
        "customer": {"email": customer_email},
        "items": [
            {
                "description": f"Подписка Setka «{plan.name_ru}», {payment.period_days} дн."[:128],
                "quantity": "1.00",
                "amount": {"value": f"{payment.amount:.2f}", "currency": "RUB"},
                "vat_code": settings.SETKA_YOOKASSA_VAT_CODE,
                "payment_mode": "full_payment",
                "payment_subject": "service",
            }
        ],
        "tax_system_code": settings.SETKA_YOOKASSA_TAX_SYSTEM_CODE,
    }


def refund_receipt(*, payment, amount: Decimal) -> dict:
    """The 54-FZ receipt of a refund: the payment's receipt with the refunded amount."""
    receipt = dict(payment.receipt)
    receipt["items"] = [
        {**item, "amount": {"value": f"{amount:.2f}", "currency": "RUB"}} for item in receipt.get("items", [])[:1]
    ]
    return receipt


def _amount(data: dict | None) -> tuple[Decimal, str]:
    data = data or {}
    return Decimal(str(data.get("value", "0"))), str(data.get("currency", ""))


def instrument_of(method: dict) -> str:
    """What identifies the payer's instrument across payments: a card's first6, last4, expiry and
    issuer (YooKassa's payment_method.id is new on every payment unless the method is saved), a
    YooMoney wallet's account, or a saved method's id. "" for SBP and the like."""
    card = method.get("card") or {}
    if card.get("last4") and card.get("first6"):
        parts = ("first6", "last4", "expiry_month", "expiry_year", "issuer_country")
        return "yookassa:card:" + ":".join(str(card.get(k, "")) for k in parts)
    if method.get("type") == "yoo_money" and method.get("account_number"):
        return f"yookassa:yoo_money:{method['account_number']}"
    if method.get("saved") and method.get("id"):
        return f"yookassa:method:{method['id']}"
    return ""


def _payout_from_wire(data: dict) -> ProviderPayout:
    amount, currency = _amount(data.get("amount"))
    return ProviderPayout(
        provider_payout_id=str(data["id"]),
        status=_STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
        amount=amount,
        currency=currency,
        cancellation_reason=str((data.get("cancellation_details") or {}).get("reason", "")),
    )


def _from_wire(data: dict) -> ProviderPayment:
    amount, currency = _amount(data.get("amount"))
    refunded, _ = _amount(data.get("refunded_amount"))
    method = data.get("payment_method") or {}
    return ProviderPayment(
        provider_payment_id=str(data["id"]),
        status=_STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
        amount=amount,
        currency=currency,
        refunded_amount=refunded,
        confirmation_url=str((data.get("confirmation") or {}).get("confirmation_url", "")),
        method_title=str(method.get("title") or method.get("type") or ""),
        metadata=dict(data.get("metadata") or {}),
        instrument=instrument_of(method) if data.get("status") == "succeeded" else "",
    )


class YooKassaProvider:
    code = "yookassa"
    currency = "RUB"
    methods: tuple[str, ...] = ("bank_card", "sbp")

    def payment_create(self, *, payment, return_url: str, customer_email: str) -> ProviderPayment:
        from yookassa import Payment as YooPayment

        configure()
        params = {
            "amount": {"value": f"{payment.amount:.2f}", "currency": "RUB"},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "description": f"Setka: {payment.plan.name_ru} ({payment.period_days} дн.)"[:128],
            "metadata": {"setka_payment_id": str(payment.pk), "seller": payment.seller[:100]},
            "receipt": payment.receipt or receipt_for(payment=payment, customer_email=customer_email),
        }
        if payment.method:
            params["payment_method_data"] = {"type": payment.method}
        try:
            response = YooPayment.create(params, str(payment.idempotence_key))
        except Exception as exc:  # noqa: BLE001 - every SDK/transport failure means "try again later"
            raise ProviderError(f"YooKassa refused or is unreachable: {type(exc).__name__}") from exc
        # Read the answer's money from the wire dict (the SDK's objects pass amounts through float).
        return self._parse(dict(response))

    def payment_fetch(self, *, provider_payment_id: str) -> ProviderPayment:
        from yookassa import Payment as YooPayment
        from yookassa.domain.common import HttpVerb

        configure()
        try:
            data = YooPayment().client.request(HttpVerb.GET, f"{YooPayment.base_path}/{provider_payment_id}")
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(f"YooKassa fetch failed: {type(exc).__name__}") from exc
        return _from_wire(data)

    def refund_create(self, *, payment, amount: Decimal, idempotence_key: str) -> str:
        from yookassa import Refund

        configure()
        try:
            response = Refund.create(
                {
                    "payment_id": payment.provider_payment_id,
                    "amount": {"value": f"{amount:.2f}", "currency": "RUB"},
                    "receipt": refund_receipt(payment=payment, amount=amount) if payment.receipt else None,
                },
                idempotence_key,
            )
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(f"YooKassa refund failed: {type(exc).__name__}") from exc
        return str(response.id)

    @staticmethod
    def _parse(data: dict) -> ProviderPayment:
        def plain(value):
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if hasattr(value, "__iter__") and not isinstance(value, str | bytes | list):
                return plain(dict(value))
            if isinstance(value, Decimal):
                return str(value)
            return value

        return _from_wire(plain(data))

    def callback_parse(self, *, body: bytes, headers: dict, remote_addr: str | None) -> CallbackEvent:
        if not address_trusted(remote_addr):
            raise CallbackRejected("address_not_allowed")
        try:
            data = json.loads(body)
            kind = data["event"]
            obj = data["object"]
            object_id = str(obj["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CallbackRejected("malformed") from exc
        if data.get("type") != "notification" or kind not in EVENTS:
            raise CallbackRejected("unknown_event")
        # payout.* events name the payout: billing finds it among its payouts, not its payments.
        payment_id = str(obj.get("payment_id", "")) if kind.startswith("refund.") else object_id
        if not payment_id:
            raise CallbackRejected("malformed")
        # YooKassa notifications carry no id of their own: one event per (event, object).
        return CallbackEvent(
            event_id=f"{kind}:{object_id}", event_type=kind, provider_payment_id=payment_id, payload=data
        )

    # --- payouts (YooKassa Payouts API: POST /v3/payouts with an Idempotence-Key) --------------
    def payout(self, *, amount: Decimal, currency: str, destination: str, idempotency_key: str) -> ProviderPayout:
        from yookassa import Payout as YooPayout
        from yookassa.domain.common import HttpVerb

        kind, _, value = destination.partition(":")
        if currency != "RUB" or kind not in ("bank_card", "yoo_money"):
            raise PayoutRejected("YooKassa pays roubles to a bank card or a YooMoney wallet.")
        data = (
            {"type": kind, "card": {"number": value}}
            if kind == "bank_card"
            else {"type": kind, "account_number": value}
        )
        params = {
            "amount": {"value": f"{amount:.2f}", "currency": "RUB"},
            "payout_destination_data": data,
            "description": "Setka partner payout"[:128],
            "metadata": {"setka_payout_key": idempotency_key},
        }
        _configure_payouts()
        try:
            answer = YooPayout().client.request(
                HttpVerb.POST, YooPayout.base_path, None, {"Idempotence-Key": idempotency_key}, params
            )
        except Exception as exc:  # noqa: BLE001 - an SDK error: refused (4xx) or outcome unknown
            if _refused(exc):
                raise PayoutRejected(f"YooKassa refused the payout: {type(exc).__name__}") from exc
            raise ProviderError(f"YooKassa payout failed: {type(exc).__name__}") from exc
        return _payout_from_wire(answer)

    def payout_fetch(self, *, provider_payout_id: str, idempotency_key: str) -> ProviderPayout | None:
        from yookassa import Payout as YooPayout
        from yookassa.domain.common import HttpVerb

        if not provider_payout_id:
            return None  # YooKassa finds payouts by id only; the caller re-sends with the same key
        _configure_payouts()
        try:
            data = YooPayout().client.request(HttpVerb.GET, f"{YooPayout.base_path}/{provider_payout_id}")
        except Exception as exc:  # noqa: BLE001
            raise ProviderError(f"YooKassa payout fetch failed: {type(exc).__name__}") from exc
        return _payout_from_wire(data)


def _configure_payouts() -> None:
    """Payouts are made by the payout gateway's agent id and key (its own pair in production)."""
    from yookassa import Configuration

    Configuration.configure(
        settings.SETKA_YOOKASSA_PAYOUT_AGENT_ID or settings.SETKA_YOOKASSA_SHOP_ID,
        settings.SETKA_YOOKASSA_PAYOUT_SECRET_KEY or settings.SETKA_YOOKASSA_SECRET_KEY,
        api_url=settings.SETKA_YOOKASSA_API_URL,
        max_attempts=1,
    )


def _refused(exc: Exception) -> bool:
    """A 4xx answer (bad request, forbidden, not found): the payout was not made."""
    from yookassa.domain.exceptions import BadRequestError, ForbiddenError, NotFoundError

    return isinstance(exc, BadRequestError | ForbiddenError | NotFoundError)


__all__ = ["YooKassaProvider", "destination_kind"]
