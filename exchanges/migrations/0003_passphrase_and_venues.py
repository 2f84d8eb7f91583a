"""OKX and KuCoin keys carry a passphrase (encrypted like the key and secret); OKX and Binance
and MEXC open for keys and paper accounts beside Bybit (their adapter and twin are finished)."""

from django.db import migrations

import exchanges.fields

READY = ("okx", "binance", "mexc")


def activate(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    Exchange.objects.filter(code__in=READY).update(is_active=True)


def deactivate(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    Exchange.objects.filter(code__in=READY).update(is_active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("exchanges", "0002_seed_exchanges"),
    ]

    operations = [
        migrations.AddField(
            model_name="exchangeaccount",
            name="api_passphrase",
            field=exchanges.fields.StrictEncryptedTextField(
                blank=True, null=True, default="", help_text="OKX and KuCoin keys carry one"
            ),
        ),
        migrations.RunPython(activate, deactivate),
    ]
