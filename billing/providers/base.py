"""The payment-provider port: what billing needs from a rail, in our own types (Decimal money,
normalised statuses). Each adapter maps its provider's wire and errors onto these."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class ProviderStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider sees it now (fetched, never taken from a callback body)."""

    provider_payment_id: str
    status: str  # ProviderStatus
    amount: Decimal
    currency: str
    refunded_amount: Decimal = Decimal(0)
    confirmation_url: str = ""
    method_title: str = ""
    metadata: dict = field(default_factory=dict)
    # What identifies the paying instrument across payments (a card's first6/last4/expiry/issuer,
    # a wallet's account): raw, never stored; billing keeps only its keyed HMAC. "" if the rail
    # tells nothing that identifies the payer.
    instrument: str = ""


@dataclass(frozen=True)
class CallbackEvent:
    """An authenticated callback: enough to store it once in the inbox and find the payment."""

    event_id: str
    event_type: str
    provider_payment_id: str
    payload: dict


class ProviderError(Exception):
    """The provider could not be reached or answered with an error: retry later (reconciliation
    does); nothing was changed on our side."""


class CallbackRejected(Exception):
    """The callback is not authentic or not readable: answer 4xx, log it, change nothing."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderPayout:
    """A payout (money sent from our account to someone's card, wallet or account) as the provider
    sees it now. Never taken from a callback body: always fetched."""

    provider_payout_id: str
    status: str  # ProviderStatus: pending, succeeded or canceled
    amount: Decimal
    currency: str
    cancellation_reason: str = ""


class PayoutRejected(Exception):
    """The provider refused the payout for good (bad destination, limits): nothing was sent; the
    caller returns the money to whoever asked for it."""


class PaymentProvider(Protocol):
    code: str
    currency: str
    methods: tuple[str, ...]

    def payment_create(self, *, payment, return_url: str, customer_email: str) -> ProviderPayment: ...

    def payment_fetch(self, *, provider_payment_id: str) -> ProviderPayment: ...

    def refund_create(self, *, payment, amount: Decimal, idempotence_key: str) -> str:
        """Refund `amount` of a paid payment (all or part); returns the provider's refund id. The
        same key returns the same refund (a retry never refunds twice)."""
        ...

    def callback_parse(self, *, body: bytes, headers: dict, remote_addr: str | None) -> CallbackEvent: ...

    def payout(self, *, amount: Decimal, currency: str, destination: str, idempotency_key: str) -> ProviderPayout:
        """Send `amount` to `destination` (validated by `destination_error`). The same key returns
        the same payout: a retry after a timeout never pays twice. ProviderError: unknown outcome,
        retry with the same key later; PayoutRejected: nothing was sent."""
        ...

    def payout_fetch(self, *, provider_payout_id: str, idempotency_key: str) -> ProviderPayout | None:
        """The payout now (by its provider id, or by our key when the create answer was lost);
        None if the provider never received it."""
        ...

