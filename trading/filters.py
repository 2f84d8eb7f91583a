"""Filters of the trade list and its CSV export (same selection for both)."""

from __future__ import annotations

import re
from datetime import timedelta

import django_filters
from django import forms

from trading.models import Side, Trade

_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


class TradeFilter(django_filters.FilterSet):
    bot = django_filters.NumberFilter(field_name="bot_id", min_value=1)
    symbol = django_filters.CharFilter(method="filter_symbol", max_length=32, help_text="e.g. BTCUSDT (any case)")
    side = django_filters.ChoiceFilter(choices=Side.choices)
    date_from = django_filters.IsoDateTimeFilter(
        field_name="executed_at", lookup_expr="gte", help_text="ISO 8601, inclusive (executed_at >= date_from)."
    )
    date_to = django_filters.IsoDateTimeFilter(
        field_name="executed_at",
        method="filter_date_to",
        help_text="ISO 8601 date-time, exclusive (executed_at < date_to); a plain date (2026-05-19) "
        "includes that whole day (UTC).",
    )

    class Meta:
        model = Trade
        fields = ["bot", "symbol", "side", "date_from", "date_to"]

    def filter_date_to(self, queryset, name, value):
        if _DATE_ONLY.match(str(self.data.get("date_to", ""))):
            value = value + timedelta(days=1)  # "to 19 May" means up to the end of 19 May
        return queryset.filter(executed_at__lt=value)

    def filter_symbol(self, queryset, name, value):
        return queryset.filter(symbol=value.strip().upper())  # exact match keeps the (user, symbol) index

    def is_valid(self):
        valid = super().is_valid()
        if valid:
            start, end = self.form.cleaned_data.get("date_from"), self.form.cleaned_data.get("date_to")
            if start and end and start > end:
                self.form.add_error("date_to", forms.ValidationError("date_to must not be before date_from."))
                return False
        return valid
