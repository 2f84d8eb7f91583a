"""Encrypt the TOTP secrets stored in plain text before accounts.mfa_adapter existed."""

from django.db import migrations


def seal(apps, schema_editor):
    from accounts.mfa_adapter import PREFIX, MfaAdapter

    Authenticator = apps.get_model("mfa", "Authenticator")
    adapter = MfaAdapter()
    for row in Authenticator.objects.filter(type="totp"):
        secret = (row.data or {}).get("secret", "")
        if secret and not secret.startswith(PREFIX):
            row.data = {**row.data, "secret": adapter.encrypt(secret)}
            row.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_recovery_codes"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
