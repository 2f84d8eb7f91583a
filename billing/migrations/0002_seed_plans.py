"""The plans of stage 2b (operators edit prices and limits in admin afterwards)."""

from decimal import Decimal

from django.db import migrations

PLANS = [
    # code, kind, ru, en, rub, usdt, trial, bots, investment, venues, backtests, pools, api, rate, cap, order
    ("free", "free", "Бесплатный", "Free", "0", "0", 0, 1, "500", 1, 3, 0, False, "0", "0", 0),
    ("start", "tier", "Старт", "Start", "990", "10", 7, 3, "5000", 2, 20, 1, False, "0", "0", 10),
    ("pro", "tier", "Про", "Pro", "2490", "25", 0, 10, None, 5, 100, 5, True, "0", "0", 20),
    ("profit", "profit_share", "Из прибыли", "Pay from profit", "0", "0", 0, 5, None, 3, 20, 1, False, "0.2", "50", 30),
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for code, kind, ru, en, rub, usdt, trial, bots, inv, venues, backtests, pools, api, rate, cap, order in PLANS:
        Plan.objects.update_or_create(
            code=code,
            defaults={
                "kind": kind,
                "name_ru": ru,
                "name_en": en,
                "price_rub": Decimal(rub),
                "price_usdt": Decimal(usdt),
                "period_days": 30,
                "trial_days": trial,
                "max_live_bots": bots,
                "max_live_investment": Decimal(inv) if inv is not None else None,
                "max_exchanges": venues,
                "backtests_per_day": backtests,
                "max_pools": pools,
                "api_access": api,
                "profit_share_rate": Decimal(rate),
                "profit_share_cap_usdt": Decimal(cap),
                "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
