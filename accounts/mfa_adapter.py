"""allauth's MFA adapter with the TOTP secret encrypted at rest (Fernet over the same
SETKA_ENCRYPTION_KEYS as the exchange API keys, so key rotation covers both). A secret stored
before encryption was turned on is still read (no prefix) and sealed on its next write."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from accounts.encryption import current_fernet

PREFIX = "fernet:"


class MfaAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return PREFIX + current_fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(PREFIX):
            return encrypted_text
        return current_fernet().decrypt(encrypted_text[len(PREFIX) :].encode()).decode()
