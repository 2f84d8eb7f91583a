"""Every message code the server can send to a person, in one place.

The app says each message in the user's language from frontend/i18n/locales/{ru,en}.json:
- ERRORS: the `code` of an API error body {"detail", "code", "fields"} -> `errors.<code>`;
- STOP_REASONS: `Bot.stop_code` (why a bot stopped) -> `stop.<code>`;
- EVENTS: the `code` of a bot log line (BotEvent.data["code"]) -> `events.<code>`.

The English text here is the server's own `detail` (translated by Django's i18n into the
user's language: locale/ru/LC_MESSAGES/django.po). tests/config/test_codes.py checks that every
code raised in the source is listed here and that both locales have a text for each."""

from __future__ import annotations

from django.utils.translation import gettext_noop as _

# API errors: our DomainError codes, and the codes Django REST framework itself answers with.
ERRORS: dict[str, str] = {
    # generic (DRF and config.exceptions)
    "invalid": _("Check the highlighted fields."),
    "error": _("Something went wrong. Try again."),
    "conflict": _("This cannot be done in the current state."),
    "not_found": _("Not found."),
    "parse_error": _("The request could not be read."),
    "not_authenticated": _("You are not logged in. Log in again."),
    "authentication_failed": _("You are not logged in. Log in again."),
    "permission_denied": _("You do not have permission to do this."),
    "method_not_allowed": _("This action is not allowed here."),
    "not_acceptable": _("The server cannot answer in the requested format."),
    "unsupported_media_type": _("The request has a format the server does not accept."),
    "throttled": _("Too many requests. Wait a moment and try again."),
    "unavailable": _("The exchange is not answering right now. Try again in a minute."),
    # accounts
    "token_invalid": _("You are not logged in. Log in again."),
    "token_expired": _("Your session has expired. Refresh it or log in again."),
    "refresh_race": _("This refresh token was just rotated; retry with the new cookie."),
    "csrf_failed": _("The page is out of date. Reload it and try again."),
    "invalid_credentials": _("Wrong email or password."),
    "email_unverified": _("Confirm your email first: enter the code we sent you (or ask for a new one)."),
    "login_locked": _("Too many failed attempts. Try again later."),
    "email_taken": _("An account with this email already exists."),
    "weak_password": _("The password is too weak."),
    "wrong_password": _("The current password is wrong."),
    "signup_closed": _("Sign-up is closed."),
    "no_email": _("This grant is not bound to an email address."),
    "too_many_attempts": _("Too many attempts. Try again later."),
    "already_granted": _("You already have access."),
    "invalid_access_code": _("This access code is wrong, used or expired."),
    "invalid_code": _("The code is wrong or has expired. Check it or ask for a new one."),
    "invalid_phone": _("Enter a valid phone number in international format, e.g. +79991234567."),
    "phone_taken": _("This phone number belongs to another account."),
    "too_many_codes": _("Too many codes were sent. Try again later."),
    "sms_failed": _("The SMS could not be sent. Try again later."),
    "no_access": _("Trading is not enabled for your account yet: enter an access code."),
    # exchange accounts
    "invalid_key": _("The exchange does not accept this API key. Check the key and the secret."),
    "key_rejected": _("This API key cannot be used: check its permissions."),
    "undecryptable": _("The keys of this account cannot be used. Re-bind them."),
    "exchange_rejected": _("The exchange refused the request."),
    "exchange_unavailable": _("The exchange is not answering right now. Try again in a minute."),
    "exchange_inactive": _("This exchange is not available for new keys right now."),
    "exchange_error": _("The exchange refused the request."),
    "exchange_auth": _("The exchange refused this account's API key; bind the keys again."),
    "no_trading_access": _("Trading is not enabled for your account yet: enter an access code."),
    "label_taken": _("You already have an account with this name."),
    "bot_running": _("A bot is running on this account. Stop it first."),
    "has_history": _("This account has bot history and cannot be deleted."),
    # bots
    "invalid_config": _("The bot settings are not valid."),
    "invalid_symbol": _("This exchange has no such symbol."),
    "report_blocking": _("The bot cannot run with these settings."),
    "warnings_not_accepted": _("Confirm the warnings of the report first."),
    "account_inactive": _("This exchange account's keys are not usable; bind them again."),
    "trading_halted": _("Trading is halted by the operators; bots cannot start right now."),
    "bot_active": _("Stop the bot first."),
    "bot_not_running": _("This bot was never started."),
    "bot_not_stopped": _("Stop the bot before deleting it."),
    # merged from the stage-1 fixes, venues and billing
    "json_too_deep": _("The request body is nested too deeply."),
    "number_not_finite": _("The request contains a number that is too large or not a number (NaN, Infinity)."),
    "invalid_key_format": _("The API key or secret contains characters exchanges never use. Copy it again exactly as the exchange shows it."),
    "invalid_unlock_link": _("This unlock link is invalid or has expired."),
    "mfa_already_enabled": _("Two-factor authentication is already on."),
    "mfa_invalid_code": _("The code from the authenticator app is wrong. Check the time on your phone and try again."),
    "mfa_not_enabled": _("Two-factor authentication is not on."),
    "mfa_required": _("Enter the 6-digit code from your authenticator app."),
    "mfa_setup_expired": _("The setup took too long. Start it again."),
    "passphrase_required": _("This exchange's keys have a passphrase. Enter it too."),
    "request_too_large": _("The request is too large."),
    "restart_needs_confirmation": _("A stopped bot restarts only after a fresh report and your confirmation."),
    "restart_not_confirmed": _("A restart re-enters the market at the current price: read the fresh report and confirm it."),

    # support
    "ticket_closed": _("This ticket is closed. Open a new one."),
    "ticket_not_closed": _("You can rate a ticket once it is resolved."),
    "attachment_too_large": _("The file is too large."),
    "attachment_type": _("Only images, PDF and text files can be attached."),
    "attachment_count": _("Too many files."),
    # referrals
    "referral_unknown_code": _("This referral code does not exist."),
    "referral_already_attributed": _("You already came by another partner's link."),
    "referral_self": _("You cannot use your own referral code."),
    "referral_too_late": _("A referral code can only be used when signing up."),
    "referral_not_available": _("The referral programme is not set up yet."),
    "referral_not_approved": _("Custom codes are for approved partners."),
    "referral_bad_code": _("Use 3 to 32 letters, digits, - or _."),
    "referral_code_taken": _("This code is taken."),
    "referral_bad_currency": _("Choose RUB or USDT."),
    # pools
    "pool_bot_not_running": _("Only a running bot can be published as a pool."),
    "pool_bad_limits": _("The maximum investment must be at least the minimum, and the minimum above zero."),
    "pool_bad_fees": _("The performance fee is 0 to 50 %, the monthly management fee 0 to 5 %."),
    "pool_exists": _("This bot is already published as a pool."),
    "pool_state": _("This cannot be done in the pool's current state."),
    "pool_not_open": _("This pool does not take investors now."),
    "pool_own": _("A manager does not join their own pool."),
    "pool_wrong_exchange": _("Choose an account on the exchange this pool trades on."),
    "pool_amount_out_of_range": _("Choose an amount between the pool's minimum and maximum."),
    "pool_already_member": _("You are in this pool already: change your amount instead."),
    "pool_left": _("You have left this pool."),
    "pool_manager_not_approved": _("Only approved pool managers can publish pools."),
    "pool_manager_experience": _("Tell the operators about your trading in a few sentences."),
    "pool_manager_already": _("You are an approved pool manager already."),
    "pool_manager_state": _("This cannot be done in the application's current state."),
    "pool_paper_only": _("This is a paper-trading pool: follow it with a paper account."),
    "pool_live_only": _("This pool trades real money: follow it with a real-money account."),
    "referral_bad_payout": _("This payout method is not available."),
    "referral_nothing_available": _("Nothing is available to pay out."),
    "referral_bad_amount": _("Enter an amount in whole cents."),
    "referral_below_minimum": _("The amount is below the minimum payout."),
    "referral_payout_decided": _("This payout has been decided already."),
}

# Why a bot stopped (Bot.stop_code).
STOP_REASONS: dict[str, str] = {
    "user": _("Stopped by you"),
    "emergency": _("Emergency stop"),
    "operator": _("Stopped by the operators"),
    "halt": _("Trading is halted by the operators"),
    "access_revoked": _("Your trading access was revoked"),
    "pool_paused": _("The pool's manager stopped the strategy"),
    "pool_follow": _("The pool's manager changed the strategy"),
    "pool_left": _("You left the pool"),
    "take_profit": _("Take-profit reached"),
    "stop_loss": _("Stop-loss reached"),
    "launch_failed": _("The grid could not be placed at the current price"),
    "auth_failed": _("The exchange no longer accepts the API key"),
    "liquidated": _("The position was liquidated"),
    "errors": _("Stopped after repeated errors"),
}

# Lines of the bot log (BotEvent.data["code"], with data["params"]).
EVENTS: dict[str, str] = {
    "created": _("Bot created: {symbol} grid, investment {investment}"),
    "starting": _("Starting: reading the market and placing the grid"),
    "reconfigured": _("New range {lower}–{upper}, {grids} grids"),
    "awaiting_trigger": _("Waiting for the price to reach {trigger} to start"),
    "trigger_reached": _("Trigger price {trigger} reached at {price}: starting"),
    "started": _("Started at {price}: {lines} lines from {low} to {high}"),
    "started_initial": _("Started at {price}: {lines} lines from {low} to {high}; bought {initial_qty} at market"),
    "launch_failed": _("Cannot launch at price {price}: {error}"),
    "placed": _("Placed {count} grid order(s)"),
    "filled": _("{side} {qty} {symbol} filled at {price}"),
    "filled_level": _("{side} {qty} {symbol} filled at {price} (line {level})"),
    "counter_order": _("Counter order: {side} {qty} at {price} (line {level})"),
    "order_missing": _("The exchange no longer knows the order ({side}) at {price}; it will be placed again"),
    "order_refused": _("The exchange refused the {side} order at {price}: {error}"),
    "orders_cancelled": _("Cancelled {count} open order(s) on the exchange"),
    "stuck_levels": _("The exchange keeps closing orders at line(s) {levels} unfilled; not placing them again"),
    "target_hit": _("{reason} (price {price}, total P&L {pnl})"),
    "stopping": _("Stopping: {reason}"),
    "stopped": _("Stopped: {reason}. All orders cancelled"),
    "stopped_closed": _("Stopped: {reason}. All orders cancelled; closed {qty} at market"),
    "close_failed": _("Could not close at market: {error}. The position is left on the exchange"),
    "exchange_slow": _("The exchange is not answering; retrying"),
    "stopped_fatal": _("Stopped at once: {error}. Check the API keys; cancel orders left on the exchange there"),
    "stop_retry": _("Stopping failed, retrying: {error}"),
    "gave_up": _("Stopping for good after {count} restarts: {error}"),
    "error_restart": _("Error: {error}. Restart {attempt} of {max} in {delay} s"),
    "restarted": _("Restart {count} after an error"),
}

ALL: dict[str, dict[str, str]] = {"errors": ERRORS, "stop": STOP_REASONS, "events": EVENTS}
