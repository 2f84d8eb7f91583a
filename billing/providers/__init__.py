"""Payment rails behind one port (billing.providers.base). provider_for() is the only way the
services get an adapter; tests point the adapters at the fakes in billing.fakes."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from billing.providers.base import CallbackEvent, CallbackRejected, PaymentProvider, ProviderError, ProviderPayment

__all__ = ["CallbackEvent", "CallbackRejected", "PaymentProvider", "ProviderError", "ProviderPayment", "provider_for"]


def provider_for(code: str) -> PaymentProvider:
    # Rails that live in another app (Telegram Stars is paid inside the bot's chat): named in the
    # setting SETKA_BILLING_PROVIDER_ADAPTERS (code -> dotted path of the adapter class), so
    # billing never imports that app.
    external = dict(getattr(settings, "SETKA_BILLING_PROVIDER_ADAPTERS", {}))
    if code in external:
        return import_string(external[code])()
    if code not in settings.SETKA_BILLING_RAILS:
        raise KeyError(code)
    if code == "yookassa":
        from billing.providers.yookassa import YooKassaProvider

        return YooKassaProvider()
    if code == "cryptopay":
        from billing.providers.cryptopay import CryptoPayProvider

        return CryptoPayProvider()
    raise KeyError(code)
