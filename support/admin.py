"""Staff work tickets here: queues, statuses, assignment, overdue SLA, the bot's diagnostics,
the thread with a reply box (a reply, or an internal note the user never sees; canned replies
fill it in), canned replies and knowledge-base articles."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import FileResponse, Http404
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config.errors import DomainError
from support.models import Article, Attachment, CannedReply, Ticket, TicketMessage, VkContact
from support.services import ticket_message_add, ticket_status_set, tickets_overdue


class OverdueFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=tickets_overdue().values("pk"))
        return queryset


class MessageInline(admin.StackedInline):
    model = TicketMessage
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "from_staff", "internal", "via", "body", "files")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="attachments")
    def files(self, obj):
        return format_html_join(
            ", ",
            '<a href="../../attachment/{}/">{}</a> ({} KB)',
            ((a.pk, a.name, max(1, a.size // 1024)) for a in obj.attachments.all()),
        )


class TicketForm(forms.ModelForm):
    canned_reply = forms.ModelChoiceField(
        queryset=CannedReply.objects.filter(active=True), required=False, help_text="Used when the reply is empty"
    )
    reply = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 90}), required=False)
    internal_note = forms.BooleanField(required=False, help_text="An internal note: never shown to the user")

    class Meta:
        model = Ticket
        fields = ("status", "queue", "assignee")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketForm
    list_display = ("id", "subject", "user", "vk_contact", "queue", "status", "assignee", "plan_code", "due", "overdue", "rating")
    list_filter = (OverdueFilter, "status", "queue", "assignee", "plan_code")
    search_fields = ("subject", "user__email", "messages__body")
    list_select_related = ("user", "assignee", "vk_contact")
    readonly_fields = (
        "user", "vk_contact", "subject", "bot", "plan_code", "language", "created_at", "first_response_due", "first_response_at",
        "resolution_due", "resolved_at", "closed_at", "rating", "rating_comment", "diagnostics_view",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("user", "vk_contact", "subject", "status", "queue", "assignee", "bot", "plan_code", "language")}),
        (
            "SLA",
            {
                "fields": (
                    "created_at",
                    "first_response_due",
                    "first_response_at",
                    "resolution_due",
                    "resolved_at",
                    "closed_at",
                )
            },
        ),
        ("Diagnostics", {"fields": ("diagnostics_view",)}),
        ("Reply", {"fields": ("canned_reply", "reply", "internal_note")}),
        ("Satisfaction", {"fields": ("rating", "rating_comment")}),
    )
    inlines = [MessageInline]

    def has_add_permission(self, request):
        return False

    @admin.display(description="due")
    def due(self, obj):
        return obj.first_response_due if obj.first_response_at is None else obj.resolution_due

    @admin.display(description="overdue", boolean=True)
    def overdue(self, obj):
        if obj.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            return False
        now = timezone.now()
        first = obj.first_response_at is None and obj.first_response_due and obj.first_response_due < now
        return bool(first or (obj.resolution_due and obj.resolution_due < now))

    @admin.display(description="diagnostics")
    def diagnostics_view(self, obj):
        if not obj.diagnostics:
            return "—"
        d = obj.diagnostics
        findings = format_html_join(
            "", "<li><b>{}</b>: {}</li>", ((f.get("title", ""), f.get("fix", "")) for f in d.get("troubleshooter", []))
        )
        errors = format_html_join(
            "", "<li>{} — {}</li>", ((e.get("at", "")[:19], e.get("text", "")) for e in d.get("exchange_errors", []))
        )
        return format_html(
            '<div class="diagnostics"><p><b>Troubleshooter</b></p><ul>{}</ul><p><b>Exchange errors</b></p><ul>{}</ul>'
            '<p><b>Venue</b>: {} ({})  <b>Key</b>: {}</p><pre style="white-space:pre-wrap;max-height:30em;overflow:auto">{}</pre></div>',
            findings,
            errors or mark_safe("<li>none</li>"),
            d.get("venue", {}).get("exchange", ""),
            d.get("venue", {}).get("mode", ""),
            d.get("key_check", {}).get("status", ""),
            json.dumps(d, indent=2, ensure_ascii=False),
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        before = Ticket.objects.get(pk=obj.pk)
        Ticket.objects.filter(pk=obj.pk).update(queue=obj.queue, assignee=obj.assignee)
        body = (data.get("reply") or "").strip()
        canned = data.get("canned_reply")
        if not body and canned is not None:
            body = canned.body_en if obj.language == "en" else canned.body_ru
        try:
            if body:
                ticket_message_add(
                    ticket=obj, author=request.user, body=body, via=TicketMessage.Via.ADMIN,
                    internal=bool(data.get("internal_note")),
                )  # fmt: skip
                messages.info(
                    request, "Internal note added." if data.get("internal_note") else "Reply sent to the user."
                )
            if obj.status != before.status and not (body and obj.status == Ticket.Status.WAITING):
                ticket_status_set(ticket=obj, status=obj.status, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        obj.refresh_from_db()

    def get_urls(self):
        return [
            path(
                "attachment/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="support_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request, attachment_id: int):
        if not self.has_view_permission(request):
            raise Http404
        row = Attachment.objects.filter(pk=attachment_id).first()
        if row is None:
            raise Http404
        response = FileResponse(
            row.file.open("rb"), content_type=row.content_type, as_attachment=True, filename=row.name
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "queue", "active")
    list_filter = ("queue", "active")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 5, "cols": 90})}}


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "language", "cause", "published", "updated_at")
    list_filter = ("language", "cause", "published")
    search_fields = ("title", "body", "slug")


@admin.register(VkContact)
class VkContactAdmin(admin.ModelAdmin):
    """People who wrote to the VK community; link one to an account and their tickets are theirs."""

    list_display = ("vk_user_id", "name", "user", "created_at")
    search_fields = ("vk_user_id", "name", "user__email")
    raw_id_fields = ("user",)
    readonly_fields = ("vk_user_id", "created_at")

    def has_add_permission(self, request):
        return False
