from django.urls import path

from mcp_server import apis

urlpatterns = [
    path("tokens/", apis.AccessTokenListCreateApi.as_view(), name="mcp-token-list"),
    path("tokens/<int:pk>/revoke/", apis.AccessTokenRevokeApi.as_view(), name="mcp-token-revoke"),
    path("suggest/", apis.SuggestApi.as_view(), name="mcp-suggest"),
    path("study/bots/<int:pk>/", apis.BotStudyApi.as_view(), name="mcp-bot-study"),
    path("study/portfolio/", apis.PortfolioApi.as_view(), name="mcp-portfolio"),
    path("audit/", apis.AuditListApi.as_view(), name="mcp-audit"),
    path("regime/bots/<int:pk>/", apis.BotRegimeApi.as_view(), name="mcp-bot-regime"),
]
