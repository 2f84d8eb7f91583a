"""Encrypted columns for API keys, on django-fernet-encrypted-fields, with its two traps closed.

1. The package derives its Fernet keys from SECRET_KEY (+ fallbacks) and SALT_KEY, so rotating
   the Django secret would silently orphan every stored key. Ours derive from
   settings.ENCRYPTION_KEYS instead (first encrypts, all decrypt), independent of SECRET_KEY.
2. A value it cannot decrypt comes back as the ciphertext, silently; that ciphertext would then
   be sent to the exchange as if it were the key. Ours raise UndecryptableSecret instead.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from encrypted_fields.fields import EncryptedTextField


class UndecryptableSecret(Exception):
    """A stored secret could not be decrypted with any configured key. It must not be used;
    an operator has to restore the old key in SETKA_ENCRYPTION_KEYS or the user re-binds keys."""


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


class StrictEncryptedTextField(EncryptedTextField):
    @property
    def f(self) -> MultiFernet:  # the package reads self.f to encrypt and decrypt
        return current_fernet()

    def to_python(self, value):
        if value is None or not isinstance(value, str) or hasattr(self, "_already_decrypted"):
            return value
        try:
            return current_fernet().decrypt(value.encode()).decode()
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise UndecryptableSecret(
                f"{self.model.__name__}.{self.name} cannot be decrypted with the configured SETKA_ENCRYPTION_KEYS."
            ) from exc
