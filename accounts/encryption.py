"""The platform's keys for secrets at rest (settings.ENCRYPTION_KEYS: the first encrypts, all
decrypt; independent of SECRET_KEY). One key set seals the TOTP secrets (accounts.mfa_adapter),
the exchange API keys (exchanges.fields) and payout destinations (billing), so one rotation
(manage.py rotate_encryption_keys) covers them all. Lives at the bottom of the core (accounts)
so every app above can use it."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings


def derive_fernet_keys() -> list[bytes]:
    keys = []
    for secret in settings.ENCRYPTION_KEYS:
        for salt in settings.SALT_KEY:
            kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt.encode(), iterations=100_000)
            keys.append(base64.urlsafe_b64encode(kdf.derive(secret.encode())))
    return keys


_fernet_cache: dict[tuple, MultiFernet] = {}


def current_fernet() -> MultiFernet:
    """MultiFernet over the configured keys; re-derived when settings change (tests, rotation)."""
    cache_key = (tuple(settings.ENCRYPTION_KEYS), tuple(settings.SALT_KEY))
    if cache_key not in _fernet_cache:
        _fernet_cache[cache_key] = MultiFernet([Fernet(k) for k in derive_fernet_keys()])
    return _fernet_cache[cache_key]
