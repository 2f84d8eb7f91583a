from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts.mfa import AdminMfaLoginForm
from config.frontend import frontend_view

admin.site.site_header = "Setka — operations"
admin.site.site_title = "Setka admin"
admin.site.login_form = AdminMfaLoginForm  # operators and staff need their TOTP code

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/", include("exchanges.urls")),
    path("api/", include("bots.urls")),
    path("api/", include("trading.urls")),
    path("api/", include("metrics.urls")),
    path("api/billing/", include("billing.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="api-docs"),
    # Everything else is the single-page app (its own router handles the path).
    re_path(r"^(?!api/|admin/|ws/|static/).*$", frontend_view, name="frontend"),
]
