from django.contrib import admin
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts.mfa import AdminMfaLoginForm
from announcements.apis import news_rss
from config.apis import AppConfigApi
from config.frontend import frontend_view
from mcp_server import oauth as mcp_oauth
from referrals.apis import referral_landing_view

admin.site.site_header = "Setka — operations"
admin.site.site_title = "Setka admin"
admin.site.login_form = AdminMfaLoginForm  # operators and staff need their TOTP code

urlpatterns = [
    path("", include("observability.urls")),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/", include("exchanges.urls")),
    path("api/", include("bots.urls")),
    path("api/", include("trading.urls")),
    path("api/app-config/", AppConfigApi.as_view(), name="app-config"),
    path("api/billing/", include("billing.urls")),
    path("api/support/", include("support.urls")),
    path("api/notifications/", include("notifications.urls")),
    path("api/telegram/", include("telegram_bot.urls")),
    path("api/", include("announcements.urls")),
    path("news/rss.xml", news_rss, name="news-rss"),
    path("api/referrals/", include("referrals.urls")),
    path("r/<str:code>", referral_landing_view, name="referral-landing"),
    path("api/pools/", include("pools.urls")),
    path("api/analytics/", include("analytics.urls")),
    path("api/mcp/", include("mcp_server.urls")),
    path(".well-known/oauth-authorization-server", mcp_oauth.authorization_server_metadata, name="oauth-metadata"),
    path("o/register/", mcp_oauth.register, name="oauth-register"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="api-docs"),
    # Everything else is the single-page app (its own router handles the path).
    re_path(r"^(?!api/|admin/|ws/|static/|health$|ready$|metrics$).*$", frontend_view, name="frontend"),
]


def bad_request(request, exception):
    """Django's own refusals (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a
    suspicious header) answer the contract's JSON on /api/ paths."""
    if not request.path_info.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        return JsonResponse({"detail": _("The request body is too large."), "code": "request_too_large"}, status=413)
    return JsonResponse({"detail": _("The request could not be read."), "code": "bad_request"}, status=400)


def not_found(request, exception):
    """An unknown /api/ path answers the contract's JSON error body; other paths Django's page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """A bug on an /api/ path still answers JSON the app can show (the traceback is only logged)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Something went wrong on our side. Try again."), "code": "error"}, status=500)
    return defaults.server_error(request)


handler400 = "config.urls.bad_request"
handler404 = "config.urls.not_found"
handler500 = "config.urls.server_error"
