"""Re-encrypt every stored API key and secret with the first key of SETKA_ENCRYPTION_KEYS.

Rotation (README): put the new key first (`SETKA_ENCRYPTION_KEYS=new,old`), restart, run this
command, then remove the old key. The command refuses to change anything if a row cannot be
decrypted with the configured keys, and lists those rows, so no secret is ever lost by a rotation.
Ciphertexts are rotated directly (MultiFernet.rotate): plaintexts are never logged or printed.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from exchanges.fields import SealedSecret, current_fernet
from exchanges.models import ExchangeAccount

FIELDS = ("api_key", "api_secret", "api_passphrase")


def _ciphertext(value) -> str | None:
    if isinstance(value, SealedSecret):
        return value.ciphertext
    return value or None


class Command(BaseCommand):
    help = "Re-encrypt stored exchange API keys with the first key in SETKA_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Check every row decrypts; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        fernet = current_fernet()
        rotated: dict[int, dict[str, SealedSecret]] = {}
        broken: list[int] = []
        rows = ExchangeAccount.objects.order_by("pk").values_list("pk", *FIELDS)
        for pk, *values in rows.iterator():
            new_values = {}
            try:
                for name, value in zip(FIELDS, values, strict=True):
                    ciphertext = _ciphertext(value)
                    if ciphertext:
                        new_values[name] = SealedSecret(fernet.rotate(ciphertext.encode()).decode())
            except (InvalidToken, UnicodeEncodeError):
                broken.append(pk)
                continue
            rotated[pk] = new_values
        if broken:
            raise CommandError(
                f"{len(broken)} exchange account(s) cannot be decrypted with the configured keys: ids "
                f"{', '.join(map(str, broken))}. Nothing was changed. Restore the old key in SETKA_ENCRYPTION_KEYS "
                "(new key first, old key after it) and run again."
            )
        if dry_run:
            self.stdout.write(f"{len(rotated)} exchange account(s) decrypt with the configured keys; nothing changed.")
            return
        revived = 0
        with transaction.atomic():
            for pk, values in rotated.items():
                if values:
                    ExchangeAccount.objects.filter(pk=pk).update(**values)
            revived = ExchangeAccount.objects.filter(
                pk__in=list(rotated), status=ExchangeAccount.Status.UNDECRYPTABLE
            ).update(status=ExchangeAccount.Status.ACTIVE, status_reason="")
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {len(rotated)} exchange account(s) with the first key; 0 failed; "
                f"{revived} previously undecryptable account(s) restored."
            )
        )
