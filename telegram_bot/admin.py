from django.contrib import admin

from telegram_bot.models import TelegramLink


@admin.register(TelegramLink)
class TelegramLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "chat_id", "username", "linked_at", "blocked_at")
    search_fields = ("user__email", "username")
    readonly_fields = ("user", "chat_id", "username", "linked_at")
