"""KuCoin opens for keys and paper accounts: its twin and the ccxt adapter pass the venue
contract suite (exchanges/venues.py READY)."""

from django.db import migrations

READY = ("kucoin",)


def activate(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    Exchange.objects.filter(code__in=READY).update(is_active=True)


def deactivate(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    Exchange.objects.filter(code__in=READY).update(is_active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("exchanges", "0003_passphrase_and_venues"),
    ]

    operations = [migrations.RunPython(activate, deactivate)]
