from django.urls import path

from exchanges import apis

urlpatterns = [
    path("exchanges/", apis.ExchangeListApi.as_view(), name="exchange-list"),
    path("exchange-accounts/", apis.ExchangeAccountListCreateApi.as_view(), name="exchange-account-list"),
    path("exchange-accounts/paper/", apis.ExchangeAccountPaperCreateApi.as_view(), name="exchange-account-paper"),
    path("exchange-accounts/<int:account_id>/", apis.ExchangeAccountDetailApi.as_view(),
         name="exchange-account-detail"),
    path("exchange-accounts/<int:account_id>/revalidate/", apis.ExchangeAccountRevalidateApi.as_view(),
         name="exchange-account-revalidate"),
    path("exchange-accounts/<int:account_id>/balance/", apis.ExchangeAccountBalanceApi.as_view(),
         name="exchange-account-balance"),
    path("market/symbols/", apis.MarketSymbolsApi.as_view(), name="market-symbols"),
    path("market/ticker/", apis.MarketTickerApi.as_view(), name="market-ticker"),
    path("market/klines/", apis.MarketKlinesApi.as_view(), name="market-klines"),
]
