"""Filters of the trade list and its CSV export (same selection for both).

Every value is checked here, before any query runs: the CSV export answers 200 and then
streams, so a filter that could fail in the database must be refused up front with a 400."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from config.limits import EARLIEST, LATEST, MAX_ID
from exchanges.filters import VenueFilter
from trading.models import Side, Trade

MSG_DATE_RANGE = _("Enter a date between 1970 and 2199.")


class BoundedIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time that exists in UTC and lies between 1970 and 2199 ("0001-01-01T00:00+14:00"
    is year 0 in UTC, "9999-12-31T23:59-14:00" year 10000: both crash a conversion to UTC)."""

    def to_python(self, value):
        try:
            moment = super().to_python(value)
        except OverflowError:
            raise forms.ValidationError(MSG_DATE_RANGE, code="invalid") from None
        if moment is None:
            return None
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(MSG_DATE_RANGE, code="invalid") from None
        if not EARLIEST <= in_utc < LATEST:
            raise forms.ValidationError(MSG_DATE_RANGE, code="invalid")
        return moment


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


class TradeFilter(django_filters.FilterSet):
    bot = django_filters.NumberFilter(field_name="bot_id", min_value=1, max_value=MAX_ID)
    venue = VenueFilter(account="bot__exchange_account")
    symbol = django_filters.CharFilter(method="filter_symbol", max_length=32, help_text="e.g. BTCUSDT (any case)")
    side = django_filters.ChoiceFilter(choices=Side.choices)
    date_from = BoundedIsoDateTimeFilter(
        field_name="executed_at", lookup_expr="gte", help_text="ISO 8601, inclusive (executed_at >= date_from)."
    )
    date_to = BoundedIsoDateTimeFilter(
        field_name="executed_at",
        method="filter_date_to",
        help_text="ISO 8601 date-time, exclusive (executed_at < date_to); a plain date (2026-05-19) "
        "includes that whole day (UTC).",
    )

    class Meta:
        model = Trade
        fields = ["bot", "venue", "symbol", "side", "date_from", "date_to"]

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
