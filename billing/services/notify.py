"""Billing tells users about plan and payment changes through notifications.notify()."""

from __future__ import annotations


def notify_user(*, user, kind: str, dedupe: str = "", **context) -> bool:
    """Tell the user about a plan or payment change through the one notification service
    (event billing_<kind>; in the app, by email, in Telegram, by the user's choice). Idempotent
    per (kind, dedupe or the context), so a re-processed webhook tells nothing twice. True when
    this call told the user (False: told already)."""
    from notifications.services import notify

    params = {k: str(v) for k, v in context.items()}
    key = dedupe or ":".join(f"{k}={params[k]}" for k in sorted(params))
    told = notify(user=user, event=f"billing_{kind}", params=params, dedupe_key=f"billing_{kind}:{key}"[:200])
    return told is not None
