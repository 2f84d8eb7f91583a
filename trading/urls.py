from django.urls import path

from trading import apis

urlpatterns = [
    path("trades/", apis.TradeListApi.as_view(), name="trade-list"),
    path("trades/export.csv", apis.TradeExportApi.as_view(), name="trade-export"),
]
