"""Who else must know that a charge of theirs was paid (or its payment taken back).

Other apps invoice through billing.services.charge_invoice with a key of their own ("pool_fee:17")
and name a listener in the setting SETKA_CHARGE_LISTENERS: a mapping of key prefix -> dotted path
of `listener(*, key, payment_id, paid_at)`. The listener runs inside the transaction that credits
(or revokes) the payment, so the charge and the payment can never disagree: if the listener
fails, the credit is rolled back and retried with the provider's next callback or reconciliation.
billing never imports the listeners' apps."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def _listener(path: str):
    return import_string(path)


def charge_settled(*, payment, paid_at) -> None:
    """Tell the owner of `payment.charge_key` that it was paid at `paid_at` (None: taken back)."""
    key = payment.charge_key or ""
    for prefix, path in dict(getattr(settings, "SETKA_CHARGE_LISTENERS", {})).items():
        if key.startswith(prefix):
            _listener(path)(key=key, payment_id=payment.pk, paid_at=paid_at)
