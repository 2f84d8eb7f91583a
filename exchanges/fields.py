"""Encrypted columns for API keys, on django-fernet-encrypted-fields, with its two traps closed.

1. The package derives its Fernet keys from SECRET_KEY (+ fallbacks) and SALT_KEY, so rotating
   the Django secret would silently orphan every stored key. Ours derive from
   settings.ENCRYPTION_KEYS instead (first encrypts, all decrypt), independent of SECRET_KEY.
2. A value it cannot decrypt comes back as the ciphertext, silently; that ciphertext would then
   be sent to the exchange as if it were the key. Ours raise UndecryptableSecret instead.
3. Rows load with their secrets sealed (SealedSecret) and decrypt only when `account.api_key` is
   read: listing accounts, the admin, status updates and refresh_from_db never need the key, so an
   account whose key is lost can still be shown and flagged.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet
from django.db.models.query_utils import DeferredAttribute
from encrypted_fields.fields import EncryptedTextField

from accounts.encryption import current_fernet, derive_fernet_keys

__all__ = ["SealedSecret", "StrictEncryptedTextField", "UndecryptableSecret", "current_fernet", "derive_fernet_keys"]


class UndecryptableSecret(Exception):
    """A stored secret could not be decrypted with any configured key. It must not be used;
    an operator has to restore the old key in SETKA_ENCRYPTION_KEYS or the user re-binds keys."""


class SealedSecret:
    """A ciphertext as loaded from the database, not yet decrypted. Rows load without touching
    the keys (listing accounts, admin, status updates never decrypt); the plaintext is produced
    only when code reads the attribute (`account.api_key`), and saving an untouched row writes
    the same ciphertext back."""

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str):
        self.ciphertext = ciphertext

    def __repr__(self) -> str:
        return "<SealedSecret>"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, SealedSecret) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


def decrypt_secret(ciphertext: str, *, label: str = "secret") -> str:
    try:
        return current_fernet().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, UnicodeEncodeError, UnicodeDecodeError) as exc:
        raise UndecryptableSecret(f"{label} cannot be decrypted with the configured SETKA_ENCRYPTION_KEYS.") from exc


class _SecretAttribute(DeferredAttribute):
    """Data descriptor: decrypts on read (raising UndecryptableSecret), stores as given on write."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, SealedSecret):
            return decrypt_secret(value.ciphertext, label=f"{type(instance).__name__}.{self.field.name}")
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class StrictEncryptedTextField(EncryptedTextField):
    descriptor_class = _SecretAttribute

    @property
    def f(self) -> MultiFernet:  # the package reads self.f to encrypt and decrypt
        return current_fernet()

    def from_db_value(self, value, expression, connection):
        if value is None or not isinstance(value, str):
            return value
        return SealedSecret(value)

    def to_python(self, value):
        return value  # plaintext in Python; ciphertext stays sealed until read

    def pre_save(self, model_instance, add):
        return model_instance.__dict__.get(self.attname)  # never decrypt just to save a row

    def get_prep_value(self, value):
        if isinstance(value, SealedSecret):
            return value.ciphertext
        return super().get_prep_value(value)

    def value_from_object(self, obj):
        return obj.__dict__.get(self.attname)


def sealed_value(instance, field_name: str):
    """The stored form of an encrypted attribute without decrypting it (SealedSecret or a new
    plaintext not yet saved)."""
    return instance.__dict__.get(field_name)


class SealedSecretsMixin:
    """For models with StrictEncryptedTextField columns: `refresh_from_db()` copies the sealed
    ciphertexts instead of decrypting them (Django's refresh reads every attribute), so an
    account whose key cannot be decrypted can still be reloaded, flagged and listed."""

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        secret = [f for f in self._meta.concrete_fields if isinstance(f, StrictEncryptedTextField)]
        if fields is not None or not secret:
            return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        plain = [f.name for f in self._meta.concrete_fields
                 if not isinstance(f, StrictEncryptedTextField) and f.attname not in self.get_deferred_fields()]
        super().refresh_from_db(using=using, fields=plain, from_queryset=from_queryset)
        manager = from_queryset if from_queryset is not None else type(self)._base_manager.db_manager(
            using or self._state.db)
        row = manager.filter(pk=self.pk).values(*[f.attname for f in secret]).first()
        if row:
            self.__dict__.update(row)
