from django.urls import path

from support import apis

app_name = "support"

urlpatterns = [
    path("tickets/", apis.TicketListApi.as_view(), name="tickets"),
    path("tickets/<int:ticket_id>/", apis.TicketDetailApi.as_view(), name="ticket"),
    path("tickets/<int:ticket_id>/messages/", apis.TicketReplyApi.as_view(), name="ticket-reply"),
    path("tickets/<int:ticket_id>/close/", apis.TicketCloseApi.as_view(), name="ticket-close"),
    path("tickets/<int:ticket_id>/rating/", apis.TicketRateApi.as_view(), name="ticket-rate"),
    path("attachments/<int:attachment_id>/", apis.AttachmentDownloadApi.as_view(), name="attachment"),
    path("bots/<int:bot_id>/troubleshoot/", apis.BotTroubleshootApi.as_view(), name="troubleshoot"),
    path("articles/", apis.ArticleListApi.as_view(), name="articles"),
    path("articles/<slug:slug>/", apis.ArticleDetailApi.as_view(), name="article"),
]
