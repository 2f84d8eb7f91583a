"""DRF views of exchange accounts and market data (docs/api-contract.md, "Exchange accounts and
market data"). Thin: validate input, call one selector or service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from config.pagination import LimitOffsetPagination
from exchanges import errors, selectors, services
from exchanges.client import Category
from exchanges.fields import UndecryptableSecret
from exchanges.serializers import (
    ExchangeAccountCreateInputSerializer,
    ExchangeAccountOutputSerializer,
    ExchangeAccountPageSerializer,
    ExchangeAccountPaperInputSerializer,
    ExchangeAccountUpdateInputSerializer,
    KlineOutputSerializer,
    KlinesQuerySerializer,
    MarketQuerySerializer,
    SymbolOutputSerializer,
    TickerOutputSerializer,
    TickerQuerySerializer,
    VenueOutputSerializer,
)


def _out(account) -> dict:
    return ExchangeAccountOutputSerializer(account).data


class ExchangeAccountListCreateApi(APIView):
    @extend_schema(operation_id="exchange_accounts_list", responses=ExchangeAccountPageSerializer)
    def get(self, request):
        accounts = selectors.exchange_account_list(user=request.user)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(accounts, request, view=self)
        return paginator.get_paginated_response(ExchangeAccountOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="exchange_accounts_create", request=ExchangeAccountCreateInputSerializer,
                   responses={201: ExchangeAccountOutputSerializer})
    def post(self, request):
        serializer = ExchangeAccountCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.exchange_account_create(user=request.user, **serializer.validated_data)
        return Response(_out(account), status=status.HTTP_201_CREATED)


class ExchangeAccountPaperCreateApi(APIView):
    @extend_schema(operation_id="exchange_accounts_paper_create", request=ExchangeAccountPaperInputSerializer,
                   responses={201: ExchangeAccountOutputSerializer})
    def post(self, request):
        serializer = ExchangeAccountPaperInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.exchange_account_create_paper(user=request.user,
                                                         label=serializer.validated_data.get("label"),
                                                         exchange=serializer.validated_data.get("exchange", "bybit"))
        return Response(_out(account), status=status.HTTP_201_CREATED)


class ExchangeListApi(APIView):
    """The exchanges a user can bind keys or open a paper account on, with what each offers."""

    @extend_schema(operation_id="exchanges_list", responses=VenueOutputSerializer(many=True))
    def get(self, request):
        return Response(VenueOutputSerializer(selectors.exchange_offered_list(), many=True).data)


class ExchangeAccountDetailApi(APIView):
    @extend_schema(operation_id="exchange_accounts_retrieve", responses=ExchangeAccountOutputSerializer)
    def get(self, request, account_id: int):
        return Response(_out(selectors.exchange_account_get(user=request.user, account_id=account_id)))

    @extend_schema(operation_id="exchange_accounts_update", request=ExchangeAccountUpdateInputSerializer,
                   responses=ExchangeAccountOutputSerializer)
    def patch(self, request, account_id: int):
        account = selectors.exchange_account_get(user=request.user, account_id=account_id)
        serializer = ExchangeAccountUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.exchange_account_update(account=account, label=serializer.validated_data["label"])
        return Response(_out(account))

    @extend_schema(operation_id="exchange_accounts_destroy", responses={204: None})
    def delete(self, request, account_id: int):
        account = selectors.exchange_account_get(user=request.user, account_id=account_id)
        services.exchange_account_delete(account=account)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExchangeAccountRevalidateApi(APIView):
    @extend_schema(operation_id="exchange_accounts_revalidate", request=None, responses=ExchangeAccountOutputSerializer)
    def post(self, request, account_id: int):
        account = selectors.exchange_account_get(user=request.user, account_id=account_id)
        account = services.exchange_account_recheck(account=account)
        return Response(_out(account))


class ExchangeAccountBalanceApi(APIView):
    """Read the account's balances from the exchange now (the card shows them with this time)."""

    @extend_schema(
        operation_id="exchange_accounts_balance_refresh",
        request=None,
        responses=inline_serializer(
            "AccountBalance",
            {"balances": serializers.DictField(child=serializers.CharField()), "read_at": serializers.DateTimeField()},
        ),
    )
    def post(self, request, account_id: int):
        account = selectors.exchange_account_get(user=request.user, account_id=account_id)
        return Response(services.exchange_account_balances_refresh(account=account))


# --- market data through the account's client ------------------------------------------------
class _MarketApi(APIView):
    query_serializer = MarketQuerySerializer

    def _query(self, request) -> dict:
        serializer = self.query_serializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _client(self, user, account_id):
        from exchanges.factory import client_for_account

        account = selectors.exchange_account_get(user=user, account_id=account_id)
        try:
            return client_for_account(account)
        except UndecryptableSecret:
            raise DomainError("The keys of this account cannot be used. Re-bind them.", code="undecryptable",
                              status_code=status.HTTP_409_CONFLICT) from None

    def get(self, request):
        query = self._query(request)
        client = self._client(request.user, query.pop("account"))
        query["category"] = Category(query["category"])
        try:
            return Response(self.fetch(client, **query))
        except (errors.TemporaryExchangeError, errors.AmbiguousOutcome):
            raise services.ExchangeUnavailable(services.MSG_DOWN) from None
        except errors.AuthenticationFailed:
            raise DomainError("The exchange no longer accepts this account's keys.", code="invalid_key",
                              status_code=status.HTTP_409_CONFLICT) from None
        except errors.ExchangeError as exc:
            raise DomainError("The exchange refused this request: unknown symbol or bad parameters.",
                              code="exchange_rejected", fields={"symbol": [exc.message]}) from None

    def fetch(self, client, **query):  # pragma: no cover - overridden
        raise NotImplementedError


class MarketSymbolsApi(_MarketApi):
    @extend_schema(operation_id="market_symbols", parameters=[MarketQuerySerializer], responses=SymbolOutputSerializer(many=True))
    def get(self, request):
        return super().get(request)

    def fetch(self, client, *, category):
        rules = [r for r in client.symbols(category=category) if r.status == "Trading"]
        return SymbolOutputSerializer(sorted(rules, key=lambda r: r.symbol), many=True).data


class MarketTickerApi(_MarketApi):
    query_serializer = TickerQuerySerializer

    @extend_schema(operation_id="market_ticker", parameters=[TickerQuerySerializer], responses=TickerOutputSerializer)
    def get(self, request):
        return super().get(request)

    def fetch(self, client, *, category, symbol):
        return TickerOutputSerializer(client.ticker(category=category, symbol=symbol)).data


class MarketKlinesApi(_MarketApi):
    query_serializer = KlinesQuerySerializer

    @extend_schema(operation_id="market_klines", parameters=[KlinesQuerySerializer], responses=KlineOutputSerializer(many=True))
    def get(self, request):
        return super().get(request)

    def fetch(self, client, *, category, symbol, interval, limit):
        klines = client.klines(category=category, symbol=symbol, interval=interval, limit=limit)
        return KlineOutputSerializer(klines, many=True).data
