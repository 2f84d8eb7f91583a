"""The venue filter shared by the bots and trades lists: `?venue=okx` (any case)."""

from __future__ import annotations

import django_filters
from django import forms

from exchanges.models import Exchange


class VenueChoiceField(forms.ChoiceField):
    """A venue code in any case; an unknown one is refused with Django's own (translated)
    "Select a valid choice" message, as the other choice filters are."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()


class VenueFilter(django_filters.ChoiceFilter):
    field_class = VenueChoiceField

    def __init__(self, *, account: str, **kwargs):
        kwargs.setdefault("choices", Exchange.Code.choices)
        kwargs.setdefault("help_text", "Venue code of the exchange account (bybit, okx, binance, mexc, kucoin).")
        super().__init__(field_name=f"{account}__exchange__code", **kwargs)
