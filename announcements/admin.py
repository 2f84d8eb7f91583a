"""Staff write posts here: both languages, the checklist, a preview of what each outlet shows,
and "Schedule" (refused until the checklist passes)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, linebreaks

from announcements.models import Announcement, Publication, VkCallbackEvent, VkComment
from announcements.services import announcement_problems, announcement_schedule, channel_text
from config.errors import DomainError


class PublicationInline(admin.TabularInline):
    model = Publication
    extra = 0
    can_delete = False
    readonly_fields = ("outlet", "status", "external_id", "error", "attempts", "published_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("title_ru", "kind", "status", "publish_at", "published_at")
    list_filter = ("status", "kind")
    search_fields = ("title_ru", "title_en")
    readonly_fields = ("status", "published_at", "preview", "checklist_state")
    inlines = [PublicationInline]
    actions = ["schedule"]
    fieldsets = (
        (None, {"fields": ("kind", "title_ru", "body_ru", "title_en", "body_en", "link", "publish_at")}),
        (
            "Checklist (all required)",
            {
                "fields": (
                    "check_product_or_education",
                    "check_no_income_promises",
                    "check_no_buy_calls",
                    "check_risk_stated",
                    "checklist_state",
                )
            },
        ),
        ("Preview and state", {"fields": ("preview", "status", "published_at")}),
    )

    @admin.display(description="Preview (Telegram channel and VK wall, in Russian)")
    def preview(self, obj):
        if obj is None or not obj.pk:
            return "Save to see the preview."
        return format_html(
            '<div style="white-space:normal;max-width:40em">{}</div>', linebreaks(channel_text(announcement=obj))
        )

    @admin.display(description="Checklist")
    def checklist_state(self, obj):
        if obj is None or not obj.pk:
            return "—"
        problems = announcement_problems(announcement=obj)
        if not problems:
            return "Ready to schedule."
        return "; ".join(f"{field}: {' '.join(text)}" for field, text in problems.items())

    def save_model(self, request, obj, form, change):
        if not obj.created_by_id:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Schedule (at its time, or now)")
    def schedule(self, request, queryset):
        for announcement in queryset:
            try:
                announcement_schedule(announcement=announcement)
            except DomainError as exc:
                messages.error(request, f"{announcement}: {exc} {exc.fields}")
            else:
                messages.success(request, f"{announcement}: scheduled for {announcement.publish_at:%Y-%m-%d %H:%M} UTC")


@admin.register(VkComment)
class VkCommentAdmin(admin.ModelAdmin):
    """Comments on our VK wall posts for moderators: review them, or mark those to remove on VK."""

    list_display = ("written_at", "announcement", "post_id", "author", "text", "status")
    list_filter = ("status",)
    search_fields = ("text",)
    list_select_related = ("announcement",)
    readonly_fields = ("post_id", "comment_id", "from_id", "author", "text", "written_at", "announcement", "received_at")
    fields = (*readonly_fields, "status")
    actions = ["mark_reviewed", "mark_hidden"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="author")
    def author(self, obj):
        path = f"id{obj.from_id}" if obj.from_id > 0 else f"club{-obj.from_id}"
        return format_html('<a href="https://vk.com/{}" rel="noopener" target="_blank">{}</a>', path, path)

    @admin.action(description="Mark reviewed")
    def mark_reviewed(self, request, queryset):
        queryset.update(status=VkComment.Status.REVIEWED)

    @admin.action(description="Mark for removal on VK")
    def mark_hidden(self, request, queryset):
        queryset.update(status=VkComment.Status.HIDDEN)


@admin.register(VkCallbackEvent)
class VkCallbackEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "type", "event_id", "deliveries", "outcome", "processed_at")
    list_filter = ("type", "outcome")
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in VkCallbackEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
