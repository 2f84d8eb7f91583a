from django.db import migrations

EXCHANGES = [
    ("bybit", "Bybit", True),
    ("binance", "Binance", False),
    ("mexc", "MEXC", False),
    ("kucoin", "KuCoin", False),
    ("okx", "OKX", False),
]


def seed(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    for code, name, active in EXCHANGES:
        Exchange.objects.update_or_create(code=code, defaults={"name": name, "is_active": active})


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
