"""What can go wrong talking to an exchange, and what the caller should do about it.

Adapters map every transport error and exchange code onto exactly one of these classes. The
bot's services decide from the class alone, never from an exchange's message text."""

from __future__ import annotations

from decimal import Decimal


class ExchangeError(Exception):
    """Base class. `code` is the exchange's own code (e.g. Bybit retCode) when there is one."""

    def __init__(self, message: str = "", *, code: int | str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


class TemporaryExchangeError(ExchangeError):
    """The exchange did not process the request (5xx, maintenance, server timeout before
    acceptance). Retry later with back-off; nothing was changed on the exchange."""


class RateLimited(TemporaryExchangeError):
    """Too many requests. Wait `retry_after` seconds (from the exchange's reset header), then retry."""

    def __init__(self, message: str = "", *, code=None, retry_after: float = 1.0):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class BudgetWait(Exception):  # noqa: N818 - not an error: a request the caller chose not to wait for
    """Our own rate budget (the account's or the egress IP's) has no room for this request for
    `retry_after` seconds, more than the caller agreed to wait (ratelimit.budget_wait_at_most).
    Nothing was sent. Not an ExchangeError on purpose: no adapter maps, retries or records it
    as an order's failure; the tick gives its process back and comes again after the wait."""

    def __init__(self, message: str = "", *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class AmbiguousOutcome(ExchangeError):
    """The request may or may not have been applied (timeout or connection lost after sending).
    Never treat as a failure: look the order up by its client order id, or let the next
    reconciliation settle it."""


class AuthenticationFailed(ExchangeError):
    """Unknown key, wrong secret, expired or revoked key, IP not whitelisted. Stop trading on
    this account and ask the user to re-bind keys; retrying will not help."""


class PermissionDenied(AuthenticationFailed):
    """The key authenticates but lacks a permission (read-only, no spot/contract trade)."""


class InvalidRequest(ExchangeError):
    """The request itself is wrong (bad parameter, unknown symbol). A bug or bad configuration:
    do not retry the same request."""


class NotSupported(ExchangeError):
    """This adapter or venue cannot answer this call (e.g. funding history on a venue whose
    client does not expose it). Skip the feature for this account; retrying will not help."""


class OrderRejected(ExchangeError):
    """The exchange refused this order. Do not resend it unchanged."""


class InsufficientBalance(OrderRejected):
    """Not enough free balance for this order. Retry only after funds change."""


class InvalidOrder(OrderRejected):
    """Price off the tick, quantity off the step, below the minimum quantity or value, price
    outside the allowed band. Fix the order (rounding, sizing) rather than retrying."""


class TooManyOpenOrders(OrderRejected):
    """The account or symbol already holds the exchange's maximum of open orders."""


class DuplicateClientOrderId(OrderRejected):
    """An order with this client order id already exists: a previous attempt got through.
    Treat as success-by-lookup: fetch the existing order by client order id."""


class OrderNotFound(ExchangeError):
    """No such order (or it is already closed, for cancels). For a cancel, the order is gone:
    reconcile its final state instead of retrying."""


class OrderAlreadyClosed(OrderNotFound):
    """Cancel/amend of an order that is already filled or cancelled."""


class PositionLiquidated(ExchangeError):
    """The position was liquidated by the exchange. The bot must stop and tell the user."""

    def __init__(self, message: str = "", *, code=None, price: Decimal | None = None):
        super().__init__(message, code=code)
        self.price = price
