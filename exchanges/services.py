"""Exchange accounts: binding keys (validated with the exchange first), paper accounts on the
simulator, re-checking stored keys, editing and deleting. Writes only; reads are in selectors."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from config.errors import ConflictError, DomainError
from exchanges import errors
from exchanges.client import ExchangeClient, KeyPermissions
from exchanges.fields import UndecryptableSecret
from exchanges.models import Exchange, ExchangeAccount

logger = logging.getLogger(__name__)

Status = ExchangeAccount.Status
Env = ExchangeAccount.Environment

MSG_NO_ACCESS = "Your account has no trading access yet. Ask an operator for an access code."
MSG_WITHDRAW = "This key can withdraw funds. Create a key without the Withdraw permission."
MSG_READ_ONLY = "This key is read-only. Create a key with the Trade permission (spot and/or contract)."
MSG_NO_TRADE = "This key cannot trade. Enable Spot trade and/or Contract (Orders, Positions) for it."
MSG_BAD_KEY = "The exchange did not accept this API key or secret. Check both and the environment (mainnet, testnet, demo)."
MSG_IP = "The key is bound to other IP addresses. Add Setka's server IP to the key or remove the IP binding."
MSG_EXPIRED = "This key has expired. Create a new key on the exchange."
MSG_DOWN = "The exchange is not answering right now. Try again in a minute."
MSG_LABEL_TAKEN = "You already have an exchange account with this label."
MSG_KEY_CHARS = ("The API key contains characters exchanges never use (letters of another alphabet or spaces). "
                 "Copy it again exactly as the exchange shows it, with the keyboard in the Latin layout.")
MSG_SECRET_CHARS = ("The API secret contains characters exchanges never use (letters of another alphabet or spaces). "
                    "Copy it again exactly as the exchange shows it, with the keyboard in the Latin layout.")
# Bybit issues Latin letters and digits. Anything outside printable ASCII cannot even be sent in
# an HTTP header (a Cyrillic key made the request fail before it left, reported as "exchange
# not answering"), so it is refused here with a message about the key.
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")
MSG_PASSPHRASE = "The passphrase does not match this key. Enter the passphrase you set when creating the key."
MSG_PASSPHRASE_REQUIRED = "This exchange's keys have a passphrase. Enter it too."
MSG_ENVIRONMENT = "This exchange offers only these environments: {choices}."
MSG_EXCHANGE_INACTIVE = "{name} is not available for new keys right now."

# the venues' own codes for "IP not allowed", "key expired" and "wrong passphrase"
IP_CODES = {10010, "50110", "400006"}
EXPIRED_CODES = {33004, "50119"}
PASSPHRASE_CODES = {"50105", "400004"}


class ExchangeUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "exchange_unavailable"


def mask_key(api_key: str) -> str:
    api_key = api_key or ""
    if len(api_key) <= 8:
        return "…" + api_key[-2:] if api_key else ""
    return f"{api_key[:4]}…{api_key[-4:]}"


def _client_for_keys(*, environment: str, api_key: str, api_secret: str, exchange: str = "bybit",
                     passphrase: str = "") -> ExchangeClient:
    from exchanges.factory import client_for_keys

    return client_for_keys(environment=environment, api_key=api_key, api_secret=api_secret, exchange=exchange,
                           passphrase=passphrase)


def _permission_problem(perms: KeyPermissions, now: datetime) -> tuple[str, str] | None:
    """(status, message) when the key must not be used, else None."""
    if perms.can_withdraw:
        return Status.INVALID, MSG_WITHDRAW
    if perms.read_only:
        return Status.INVALID, MSG_READ_ONLY
    if not (perms.can_trade_spot or perms.can_trade_linear):
        return Status.INVALID, MSG_NO_TRADE
    if perms.expires_at is not None and perms.expires_at <= now:
        return Status.EXPIRED, MSG_EXPIRED
    return None


def _auth_message(exc: errors.AuthenticationFailed) -> str:
    if exc.code in IP_CODES:
        return MSG_IP
    if exc.code in EXPIRED_CODES:
        return MSG_EXPIRED
    if exc.code in PASSPHRASE_CODES or exc.code == "passphrase":
        return MSG_PASSPHRASE
    if isinstance(exc, errors.PermissionDenied):
        return MSG_NO_TRADE
    return MSG_BAD_KEY


def _snapshot(perms: KeyPermissions) -> dict:
    return {
        "can_trade_spot": perms.can_trade_spot,
        "can_trade_linear": perms.can_trade_linear,
        "can_withdraw": perms.can_withdraw,
        "read_only": perms.read_only,
        "exchange": perms.raw.get("permissions", {}),
    }


def _balances_snapshot(client: ExchangeClient) -> dict:
    return {coin: str(balance.total) for coin, balance in sorted(client.balances().items()) if balance.total}


def exchange_keys_validate(*, client: ExchangeClient) -> tuple[KeyPermissions, dict]:
    """Ask the exchange what the key may do and what the account holds. Raises DomainError
    (400) with a readable message when the key must not be bound, ExchangeUnavailable (503)
    when the exchange does not answer."""
    try:
        perms = client.key_permissions()
    except errors.AuthenticationFailed as exc:
        raise DomainError(_auth_message(exc), code="invalid_key", fields={"api_key": [_auth_message(exc)]}) from None
    except (errors.TemporaryExchangeError, errors.AmbiguousOutcome) as exc:
        raise ExchangeUnavailable(MSG_DOWN) from exc
    except errors.ExchangeError as exc:
        raise DomainError(MSG_BAD_KEY, code="invalid_key") from exc
    problem = _permission_problem(perms, timezone.now())
    if problem is not None:
        raise DomainError(problem[1], code="key_rejected", fields={"api_key": [problem[1]]})
    try:
        balances = _balances_snapshot(client)
    except errors.AuthenticationFailed as exc:
        raise DomainError(_auth_message(exc), code="invalid_key") from None
    except errors.ExchangeError as exc:
        raise ExchangeUnavailable(MSG_DOWN) from exc
    return perms, balances


def exchange_keys_check_format(*, api_key: str, api_secret: str) -> None:
    """DomainError (400, code invalid_key_format) when the key or the secret has characters
    Bybit never issues (another keyboard layout, a pasted quote or space)."""
    fields = {}
    if not _KEY_CHARS.fullmatch(api_key):
        fields["api_key"] = [MSG_KEY_CHARS]
    if not _KEY_CHARS.fullmatch(api_secret):
        fields["api_secret"] = [MSG_SECRET_CHARS]
    if fields:
        message = MSG_KEY_CHARS if "api_key" in fields else MSG_SECRET_CHARS
        raise DomainError(message, code="invalid_key_format", fields=fields)


def _require_trading_access(user) -> None:
    if not getattr(user, "has_trading_access", False):
        raise DomainError(MSG_NO_ACCESS, code="no_trading_access", status_code=status.HTTP_403_FORBIDDEN)


def _exchange(code: str) -> Exchange:
    """The exchange row of a venue that users may bind keys on now (active and finished)."""
    from exchanges.venues import READY, VENUES

    exchange = Exchange.objects.filter(code=code).first()
    if exchange is None or not exchange.is_active or code not in READY:
        name = VENUES[code].name if code in VENUES else code
        raise DomainError(MSG_EXCHANGE_INACTIVE.format(name=name), code="exchange_inactive",
                          fields={"exchange": [MSG_EXCHANGE_INACTIVE.format(name=name)]})
    return exchange


def _bybit() -> Exchange:
    return _exchange(Exchange.Code.BYBIT)


def _label_free(user, label: str, exclude_pk: int | None = None) -> None:
    qs = ExchangeAccount.objects.filter(user=user, label=label)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DomainError(MSG_LABEL_TAKEN, code="label_taken", fields={"label": [MSG_LABEL_TAKEN]})


def _store(*, user, label, environment, api_key, api_secret, perms: KeyPermissions, balances,
           exchange: Exchange | None = None, passphrase: str = "") -> ExchangeAccount:
    try:
        with transaction.atomic():
            return ExchangeAccount.objects.create(
                user=user,
                exchange=exchange or _bybit(),
                api_passphrase=passphrase,
                label=label,
                environment=environment,
                api_key=api_key,
                api_secret=api_secret,
                api_key_hint=mask_key(api_key),
                status=Status.ACTIVE,
                status_reason="",
                permissions=_snapshot(perms),
                read_only=perms.read_only,
                ip_whitelist=list(perms.ip_whitelist),
                key_expires_at=perms.expires_at,
                validated_at=timezone.now(),
                balances=balances,
            )
    except IntegrityError:
        raise DomainError(MSG_LABEL_TAKEN, code="label_taken", fields={"label": [MSG_LABEL_TAKEN]}) from None


def exchange_account_create(*, user, label: str, environment: str, api_key: str, api_secret: str,
                            exchange: str = "bybit", api_passphrase: str = "") -> ExchangeAccount:
    """Bind a user's keys on one exchange after checking them with it (trade yes, withdraw no,
    not expired, passphrase right). Invalid keys are never stored."""
    from exchanges.venues import venue

    _require_trading_access(user)
    api_key, api_secret, label = (api_key or "").strip(), (api_secret or "").strip(), (label or "").strip()
    passphrase = (api_passphrase or "").strip()
    row = _exchange(exchange)
    spec = venue(exchange)
    bound = [e for e in spec.environments if e != Env.PAPER]
    if environment not in bound:
        msg = MSG_ENVIRONMENT.format(choices=", ".join(bound))
        raise DomainError(msg, fields={"environment": [msg]})
    if not api_key or not api_secret:
        raise DomainError("API key and secret are required.", fields={"api_key": ["Required."]})
    if spec.passphrase_required and not passphrase:
        raise DomainError(MSG_PASSPHRASE_REQUIRED, code="passphrase_required",
                          fields={"api_passphrase": [MSG_PASSPHRASE_REQUIRED]})
    if not label:
        raise DomainError("A label is required.", fields={"label": ["Required."]})
    exchange_keys_check_format(api_key=api_key, api_secret=api_secret)
    _label_free(user, label)
    client = _client_for_keys(environment=environment, api_key=api_key, api_secret=api_secret, exchange=exchange,
                              passphrase=passphrase)
    perms, balances = exchange_keys_validate(client=client)
    account = _store(user=user, label=label, environment=environment, api_key=api_key, api_secret=api_secret,
                     perms=perms, balances=balances, exchange=row, passphrase=passphrase)
    logger.info("Exchange account %s bound for user %s (%s, %s)", account.pk, user.pk, exchange, environment)
    return account


# --- paper accounts --------------------------------------------------------------------------
def _simulator_create_key(funding_usdt: str, exchange: str = "bybit") -> tuple[str, str, str]:
    """A fresh account and trading key on the venue's twin through the simulator's control API."""
    from exchanges.factory import venue_simulator_url
    from exchanges.simulator.control import ControlError, SimulatorControl

    try:  # outside development a weak control token is refused here (ControlError), before any request
        control = SimulatorControl(venue_simulator_url(exchange), settings.SETKA_SIMULATOR_CONTROL_TOKEN, timeout=10)
        created = control.create_account(funding={"USDT": funding_usdt}, spot_trade=True, contract_trade=True,
                                         read_only=False, withdraw=False)
    except (ControlError, requests.RequestException, ValueError, KeyError) as exc:
        logger.warning("Paper account creation failed: %s", type(exc).__name__)
        raise ExchangeUnavailable("The paper-trading simulator is not answering. Try again in a minute.") from exc
    return created.api_key, created.api_secret, created.passphrase


def _paper_label(user, exchange: Exchange) -> str:
    base = "Paper" if exchange.code == Exchange.Code.BYBIT else f"Paper {exchange.name}"
    taken = set(ExchangeAccount.objects.filter(user=user, label__startswith=base).values_list("label", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


def exchange_account_create_paper(*, user, label: str | None = None, exchange: str = "bybit") -> ExchangeAccount:
    """A paper account on one venue's twin: a fresh simulator account and key, funded with
    settings.SETKA_PAPER_FUNDING_USDT USDT."""
    _require_trading_access(user)
    row = _exchange(exchange)
    label = (label or "").strip() or _paper_label(user, row)
    _label_free(user, label)
    from exchanges.venues import venue

    api_key, api_secret, passphrase = _simulator_create_key(str(settings.SETKA_PAPER_FUNDING_USDT), exchange)
    passphrase = passphrase if venue(exchange).passphrase_required else ""  # the twin issues one to every key
    client = _client_for_keys(environment=Env.PAPER, api_key=api_key, api_secret=api_secret, exchange=exchange,
                              passphrase=passphrase)
    perms, balances = exchange_keys_validate(client=client)
    return _store(user=user, label=label, environment=Env.PAPER, api_key=api_key, api_secret=api_secret,
                  perms=perms, balances=balances, exchange=row, passphrase=passphrase)


# --- re-checking stored keys -----------------------------------------------------------------
def exchange_account_recheck(*, account: ExchangeAccount, client: ExchangeClient | None = None) -> ExchangeAccount:
    """Ask the exchange again about a stored key; flag it expired, revoked or invalid with a
    reason, or refresh its permissions and balances. A temporary exchange failure changes
    nothing (the next pass retries)."""
    from exchanges.factory import client_for_account

    fields = ["status", "status_reason", "updated_at"]
    try:
        client = client or client_for_account(account)
    except UndecryptableSecret:
        account.refresh_from_db(fields=["status", "status_reason"])
        return account
    now = timezone.now()
    try:
        perms = client.key_permissions()
    except errors.AuthenticationFailed as exc:
        account.status = Status.EXPIRED if exc.code in EXPIRED_CODES else Status.REVOKED
        account.status_reason = _auth_message(exc) if exc.code in IP_CODES | EXPIRED_CODES else (
            "The exchange no longer accepts this key (deleted or revoked). Re-bind the keys.")
        account.save(update_fields=fields)
        return account
    except errors.ExchangeError as exc:
        logger.warning("Re-check of exchange account %s postponed: %s", account.pk, type(exc).__name__)
        return account
    problem = _permission_problem(perms, now)
    if problem is not None:
        account.status, account.status_reason = problem
    else:
        account.status, account.status_reason = Status.ACTIVE, ""
        try:
            account.balances = _balances_snapshot(client)
            fields.append("balances")
        except errors.ExchangeError:
            pass
    account.permissions = _snapshot(perms)
    account.read_only = perms.read_only
    account.ip_whitelist = list(perms.ip_whitelist)
    account.key_expires_at = perms.expires_at
    account.validated_at = now
    account.save(update_fields=[*fields, "permissions", "read_only", "ip_whitelist", "key_expires_at",
                                "validated_at"])
    return account


def exchange_account_balances_refresh(*, account: ExchangeAccount, client: ExchangeClient | None = None) -> dict:
    """Read the account's balances from the exchange now (through the port) and keep them as
    the last read. Returns {"balances": {coin: amount}, "read_at": datetime}. An exchange that
    does not answer raises ExchangeUnavailable (503); refused keys raise a 400 about the key."""
    from exchanges.factory import client_for_account

    try:
        client = client or client_for_account(account)
    except UndecryptableSecret:
        raise DomainError("The keys of this account cannot be used. Re-bind them.", code="undecryptable") from None
    try:
        balances = _balances_snapshot(client)
    except errors.AuthenticationFailed as exc:
        raise DomainError(_auth_message(exc), code="invalid_key") from None
    except errors.ExchangeError as exc:
        raise ExchangeUnavailable(MSG_DOWN) from exc
    read_at = timezone.now()
    account.balances = balances
    account.save(update_fields=["balances", "updated_at"])
    return {"balances": balances, "read_at": read_at}


def exchange_accounts_recheck_all() -> dict[str, int]:
    """Re-check every stored key that is not already known dead. Returns counts by status."""
    counts: dict[str, int] = {}
    queryset = ExchangeAccount.objects.exclude(status=Status.UNDECRYPTABLE).order_by("pk")
    for account in queryset.iterator():
        try:
            account = exchange_account_recheck(account=account)
        except Exception:  # noqa: BLE001 - one account must not stop the others
            logger.exception("Re-check of exchange account %s failed", account.pk)
            continue
        counts[account.status] = counts.get(account.status, 0) + 1
    return counts


# --- edit and delete -------------------------------------------------------------------------
def exchange_account_update(*, account: ExchangeAccount, label: str) -> ExchangeAccount:
    label = (label or "").strip()
    if not label:
        raise DomainError("A label is required.", fields={"label": ["Required."]})
    _label_free(account.user, label, exclude_pk=account.pk)
    account.label = label
    account.save(update_fields=["label", "updated_at"])
    return account


# bots.models.Bot.ACTIVE_STATUSES (exchanges sits below bots; tests/exchanges keep the two equal).
BOT_ACTIVE_STATUSES = ("starting", "running", "stopping", "error")


def _has_running_bots(account: ExchangeAccount) -> bool:
    return account.bots.filter(status__in=BOT_ACTIVE_STATUSES).exists()  # Bot.exchange_account's reverse


def exchange_account_delete(*, account: ExchangeAccount) -> None:
    if _has_running_bots(account):
        raise ConflictError("A bot is running on this account. Stop it first.", code="bot_running")
    try:
        account.delete()
    except Exception as exc:  # ProtectedError from bots/trading history
        from django.db.models import ProtectedError

        if isinstance(exc, ProtectedError):
            raise ConflictError("This account has bot history and cannot be deleted.", code="has_history") from None
        raise
