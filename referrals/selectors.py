"""Reads: balances from the ledger, a partner's dashboard figures, attribution look-ups."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from referrals.models import (
    Attribution,
    Click,
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    Partner,
    Payout,
    ReferralCode,
    Reward,
)

ZERO = Decimal("0.00")

# Promotional texts a partner may use: they describe the product only and promise no income
# (advertising rules for financial services: no yield, no "easy money", risks not hidden).
PROMO_TEXTS = [
    {
        "ru": "Setka — сервис сеточных торговых ботов для Bybit и других бирж: настройка сетки за пару минут, "
        "бумажная торговля без риска, понятная статистика. Торговля на бирже связана с риском потери средств.",
        "en": "Setka runs grid-trading bots on Bybit and other exchanges: set up a grid in minutes, try it on "
        "paper first, see clear statistics. Trading on an exchange carries a risk of losing money.",
    },
    {
        "ru": "Попробуйте сеточного бота Setka на бумажном счёте: стратегия, уровни и история сделок в одном окне. "
        "Доходность не гарантируется.",
        "en": "Try a Setka grid bot on a paper account: the strategy, its levels and its trade history in one "
        "place. Returns are not guaranteed.",
    },
]


def partner_of(*, user) -> Partner | None:
    return Partner.objects.filter(user=user).select_related("tier").first()


def balances(*, partner: Partner) -> dict[str, dict[str, Decimal]]:
    """{currency: {accrued, available, pending, paid}} from the ledger (the only source)."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: {k: ZERO for k in LedgerAccount.PARTNER_KINDS})
    rows = (
        LedgerPosting.objects.filter(account__partner=partner)
        .values("account__currency", "account__kind")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        out[row["account__currency"]][row["account__kind"]] = row["total"]
    return dict(out)


def balance(*, partner: Partner, currency: str, kind: str) -> Decimal:
    return balances(partner=partner).get(currency, {}).get(kind, ZERO)


def ledger_unbalanced_entries() -> list[str]:
    """Keys of entries whose postings do not sum to zero (always empty unless the ledger is broken)."""
    return list(
        LedgerEntry.objects.annotate(total=Sum("postings__amount"))
        .exclude(total=0)
        .exclude(total__isnull=True)
        .values_list("key", flat=True)
    )


def ledger_total() -> Decimal:
    return LedgerPosting.objects.aggregate(total=Sum("amount"))["total"] or ZERO


def attribution_of(*, user) -> Attribution | None:
    return Attribution.objects.filter(user=user).select_related("referrer", "code").first()


def code_active(*, code: str) -> ReferralCode | None:
    code = (code or "").strip()
    # codes are letters, digits, "_" and "-": anything else (a NUL byte, markup) names no code
    if not code or len(code) > 32 or not code.isascii() or not code.replace("_", "").replace("-", "").isalnum():
        return None
    return (
        ReferralCode.objects.filter(code__iexact=code, active=True).select_related("partner", "partner__user").first()
    )


def partner_dashboard(*, partner: Partner) -> dict:
    """What the partner sees: clicks, sign-ups, paying users, revenue and earnings by month."""
    codes = ReferralCode.objects.filter(partner=partner)
    attributions = Attribution.objects.filter(referrer=partner.user)
    rewards = Reward.objects.filter(partner=partner)
    level1 = rewards.filter(level=1)
    revenue = defaultdict(lambda: ZERO)
    for row in level1.exclude(status=Reward.Status.REVERSED).values("currency").annotate(total=Sum("base")):
        revenue[row["currency"]] = row["total"]
    months: dict[str, dict] = {}
    for row in (
        rewards.annotate(month=TruncMonth("created_at"))
        .values("month", "currency")
        .annotate(
            earned=Sum("amount", filter=~Q(status=Reward.Status.REVERSED)),
            reversed=Sum("amount", filter=Q(status=Reward.Status.REVERSED)),
            count=Count("id"),
        )
        .order_by("month")
    ):
        key = f"{row['month']:%Y-%m}"
        months.setdefault(key, {"month": key, "earned": {}, "reversed": {}})
        months[key]["earned"][row["currency"]] = str(row["earned"] or ZERO)
        months[key]["reversed"][row["currency"]] = str(row["reversed"] or ZERO)
    return {
        "clicks": Click.objects.filter(code__in=codes).count(),
        "signups": attributions.exclude(status=Attribution.Status.REJECTED).count(),
        "paying_users": level1.exclude(status=Reward.Status.REVERSED).values("payment__user").distinct().count(),
        "revenue": {k: str(v) for k, v in revenue.items()},
        "balances": {c: {k: str(v) for k, v in b.items()} for c, b in balances(partner=partner).items()},
        "months": list(months.values()),
    }


def partner_payouts(*, partner: Partner):
    return Payout.objects.filter(partner=partner)


def partner_rewards(*, partner: Partner):
    return Reward.objects.filter(partner=partner).select_related("payment")
