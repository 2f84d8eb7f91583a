"""Query filters of the bots API. Invalid values answer 400 with the field's message."""

from __future__ import annotations

import django_filters

from bots.models import Bot
from config.limits import MAX_ID
from exchanges.filters import VenueFilter
from trading.models import Order, Side


class BotFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Bot.Status.choices)
    symbol = django_filters.CharFilter(field_name="symbol", lookup_expr="iexact", max_length=32)
    exchange_account = django_filters.NumberFilter(field_name="exchange_account_id", min_value=1, max_value=MAX_ID)
    category = django_filters.ChoiceFilter(choices=Bot.Category.choices, help_text="The bot type: spot or linear.")
    exchange = django_filters.CharFilter(
        field_name="exchange_account__exchange__code", lookup_expr="iexact", max_length=16,
        help_text="Venue code (an older name of `venue`; an unknown code matches nothing).",
    )
    venue = VenueFilter(account="exchange_account")

    class Meta:
        model = Bot
        fields = ["status", "symbol", "exchange_account", "category", "exchange", "venue"]


class OrderFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("cancelled", "Cancelled"), ("all", "All")],
        method="filter_state",
        empty_label=None,
        help_text="active: pending/open/partially filled/cancelling; cancelled: cancelled/rejected/missing.",
    )
    side = django_filters.ChoiceFilter(choices=Side.choices)
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)

    class Meta:
        model = Order
        fields = ["state", "side", "status"]

    def filter_state(self, queryset, name, value):
        if value == "active":
            return queryset.filter(status__in=Order.OPEN_STATUSES)
        if value == "cancelled":
            return queryset.filter(status__in=[Order.Status.CANCELLED, Order.Status.REJECTED, Order.Status.MISSING])
        return queryset
