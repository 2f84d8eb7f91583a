"""Operators: plans, subscriptions (comp, extend), payments (refund, re-check with the
provider), the webhook inbox and rejected callbacks (read-only)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render

from billing import services
from billing.models import (
    CycleHold,
    Payment,
    Plan,
    ProfitShareMonth,
    ProviderEvent,
    ProviderPayout,
    Refund,
    RejectedCallback,
    Subscription,
    SubscriptionEvent,
)
from billing.providers import ProviderError
from config.errors import DomainError


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "kind",
        "name_en",
        "price_rub",
        "price_usdt",
        "max_live_bots",
        "max_live_investment",
        "is_public",
    )
    list_editable = ("is_public",)


class SubscriptionEventInline(admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    can_delete = False
    readonly_fields = (
        "created_at",
        "from_status",
        "to_status",
        "from_plan",
        "to_plan",
        "reason",
        "note",
        "actor",
        "payment",
        "period_end",
    )
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class CompForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.exclude(kind=Plan.Kind.FREE))
    days = forms.IntegerField(min_value=1, max_value=3650, initial=30)
    note = forms.CharField(max_length=300, required=False)


class RefundPartForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=20, decimal_places=2, min_value=Decimal("0.01"), help_text="In the payment's currency"
    )
    note = forms.CharField(max_length=300, required=False)
    # Rendered once with the form: submitting the same form twice refunds once.
    key = forms.UUIDField(widget=forms.HiddenInput)


class ExtendForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=3650, initial=7)
    note = forms.CharField(max_length=300, required=False)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "plan", "status", "period_end", "grace_until", "comped")
    list_filter = ("status", "plan", "comped")
    search_fields = ("user__email",)
    readonly_fields = (
        "user",
        "plan",
        "status",
        "period_start",
        "period_end",
        "grace_until",
        "comped",
        "credit_rub",
        "credit_usdt",
    )
    inlines = [SubscriptionEventInline]
    actions = ["comp_plan", "extend_plan"]

    def has_add_permission(self, request):
        return False

    def _form_action(self, request, queryset, form_class, title, apply):
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                for sub in queryset:
                    try:
                        apply(sub, form.cleaned_data)
                    except DomainError as exc:
                        self.message_user(request, f"{sub.user}: {exc.message}", messages.ERROR)
                self.message_user(request, f"{title}: done for {queryset.count()} subscription(s).")
                return redirect(request.get_full_path())
        else:
            form = form_class()
        return render(
            request,
            "admin/billing/subscription_action.html",
            {
                "form": form,
                "title": title,
                "queryset": queryset,
                "action": request.POST.get("action"),
                **self.admin_site.each_context(request),
            },
        )

    @admin.action(description="Comp a plan (free of charge)")
    def comp_plan(self, request, queryset):
        return self._form_action(
            request,
            queryset,
            CompForm,
            "Comp a plan",
            lambda sub, d: services.subscription_comp(
                user=sub.user, plan=d["plan"], days=d["days"], actor=request.user, note=d["note"]
            ),
        )

    @admin.action(description="Extend the current plan")
    def extend_plan(self, request, queryset):
        return self._form_action(
            request,
            queryset,
            ExtendForm,
            "Extend the plan",
            lambda sub, d: services.subscription_extend(
                user=sub.user, days=d["days"], actor=request.user, note=d["note"]
            ),
        )


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "amount", "status", "provider_refund_id", "actor", "note")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "plan",
        "provider",
        "amount",
        "currency",
        "status",
        "credited_at",
        "revoked_at",
        "created_at",
    )
    list_filter = ("provider", "status", "purpose")
    search_fields = ("user__email", "provider_payment_id")
    readonly_fields = [f.name for f in Payment._meta.fields]
    actions = ["refund", "refund_part", "refund_recorded", "recheck"]
    inlines = [RefundInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Refund through the provider (takes the plan back)")
    def refund(self, request, queryset):
        for payment in queryset:
            try:
                services.payment_refund(payment=payment, actor=request.user)
                self.message_user(request, f"Payment {payment.pk} refunded.")
            except (DomainError, ProviderError) as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc}", messages.ERROR)

    @admin.action(description="Refund part of a payment (the same share of its period is taken back)")
    def refund_part(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one payment for a partial refund.", messages.ERROR)
            return None
        payment = queryset.get()
        form = (
            RefundPartForm(request.POST) if "apply" in request.POST else RefundPartForm(initial={"key": uuid.uuid4()})
        )
        if "apply" in request.POST and form.is_valid():
            data = form.cleaned_data
            try:
                services.payment_refund(
                    payment=payment,
                    amount=data["amount"],
                    note=data["note"],
                    key=data["key"],
                    actor=request.user,
                    provider_call=payment.provider != Payment.Provider.CRYPTOPAY,
                )
            except (DomainError, ProviderError) as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc}", messages.ERROR)
            else:
                payment.refresh_from_db()
                self.message_user(
                    request,
                    f"Payment {payment.pk}: {data['amount']:.2f} {payment.currency} refunded "
                    f"({payment.refunded_amount} of {payment.amount} in all).",
                )
            return redirect(request.get_full_path())
        return render(
            request,
            "admin/billing/payment_refund.html",
            {
                "form": form,
                "title": "Refund part of a payment",
                "payment": payment,
                "left": payment.amount - payment.refunded_amount,
                "action": "refund_part",
                **self.admin_site.each_context(request),
            },
        )

    @admin.action(description="Record a refund made outside the provider (e.g. USDT transfer back)")
    def refund_recorded(self, request, queryset):
        for payment in queryset:
            try:
                services.payment_refund(payment=payment, actor=request.user, provider_call=False)
                self.message_user(request, f"Payment {payment.pk} recorded as refunded.")
            except DomainError as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc}", messages.ERROR)

    @admin.action(description="Re-check with the provider now")
    def recheck(self, request, queryset):
        for payment in queryset.exclude(provider_payment_id=None)[:50]:
            try:
                outcome = services.payment_refresh(payment=payment)
                self.message_user(request, f"Payment {payment.pk}: {outcome}.")
            except ProviderError as exc:
                self.message_user(request, f"Payment {payment.pk}: {exc}", messages.ERROR)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = (
        "provider",
        "event_id",
        "event_type",
        "provider_payment_id",
        "deliveries",
        "outcome",
        "received_at",
        "processed_at",
    )
    list_filter = ("provider", "outcome", "event_type")
    search_fields = ("event_id", "provider_payment_id")


@admin.register(RejectedCallback)
class RejectedCallbackAdmin(ReadOnlyAdmin):
    list_display = ("provider", "reason", "remote_addr", "received_at")
    list_filter = ("provider", "reason")


@admin.register(ProfitShareMonth)
class ProfitShareMonthAdmin(ReadOnlyAdmin):
    list_display = ("user", "month", "profit", "rate", "cap", "fee")


@admin.register(CycleHold)
class CycleHoldAdmin(ReadOnlyAdmin):
    list_display = ("bot", "reason", "created_at")


@admin.register(ProviderPayout)
class ProviderPayoutAdmin(ReadOnlyAdmin):
    """Payouts sent by a rail (the destination is shown masked only); "Re-check" asks the
    provider now (the reconciliation does it every few minutes anyway)."""

    list_display = (
        "id",
        "owner_key",
        "rail",
        "amount",
        "currency",
        "destination_masked",
        "status",
        "cancellation_reason",
        "provider_payout_id",
        "attempts",
        "created_at",
        "settled_at",
    )
    list_filter = ("rail", "status")
    search_fields = ("owner_key", "provider_payout_id")
    exclude = ("destination",)
    actions = ["recheck"]

    @admin.action(description="Re-check with the provider")
    def recheck(self, request, queryset):
        for payout in queryset:
            try:
                status = services.payout_refresh(payout_id=payout.pk)
                self.message_user(request, f"Payout {payout.pk}: {status}.")
            except ProviderError as exc:
                self.message_user(request, f"Payout {payout.pk}: {exc}", messages.ERROR)
