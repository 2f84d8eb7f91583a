"""Pools API under /api/pools/. Thin views over pools.services and pools.selectors. Public
reads (the list and an approved pool's page) need no sign-in; everything else is the signed-in
user's own: another user's membership or unapproved pool answers 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apicommon.api import ApiMixin
from bots.models import Bot
from bots.serializers import ReportSerializer
from config.limits import MAX_ID
from exchanges.models import ExchangeAccount
from pools import selectors, services
from pools.models import ManagerPayout, Pool, PoolFee, PoolManager, PoolMember
from pools.payouts import manager_balance, manager_payout_request, manager_payouts

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {detail, code, fields}"),
    401: OpenApiResponse(description="Not signed in"),
    403: OpenApiResponse(description="Not an approved pool manager"),
    404: OpenApiResponse(description="No such pool or membership for this user"),
    409: OpenApiResponse(description="Not possible in the current state"),
}


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=30, decimal_places=8, coerce_to_string=True, **kwargs)


def _amount() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=8, min_value=Decimal("0.00000001"))


def _body(request) -> dict:
    """The JSON body when it is an object; anything else reads as empty (field errors follow)."""
    return request.data if isinstance(request.data, dict) else {}


class PoolSerializer(serializers.ModelSerializer):
    symbol = serializers.CharField(source="bot.symbol")
    category = serializers.CharField(source="bot.category")
    exchange = serializers.CharField(source="bot.exchange_account.exchange.name")
    manager_name = serializers.SerializerMethodField()
    investors = serializers.IntegerField()
    followed_total = _money(source="followed", allow_null=True)
    nav = _money()
    min_investment = _money()
    max_investment = _money()

    class Meta:
        model = Pool
        fields = [
            "id",
            "name",
            "description",
            "risk_level",
            "status",
            "symbol",
            "category",
            "exchange",
            "manager_name",
            "min_investment",
            "max_investment",
            "performance_fee_percent",
            "management_fee_percent",
            "investors",
            "followed_total",
            "nav",
            "is_paper",
            "approved_at",
            "created_at",
        ]
        extra_kwargs = {"is_paper": {"help_text": "Paper trading: the manager's bot trades no real money"}}

    def get_manager_name(self, pool: Pool) -> str:
        email = pool.manager.email or ""
        return email.split("@")[0][:3] + "…" if email else "—"


class TrackRecordSerializer(serializers.Serializer):
    simulated = serializers.BooleanField(help_text="Paper trading: these results are simulated, not real money")
    since = serializers.DateTimeField()
    age_days = serializers.IntegerField()
    invested = _money()
    total_pnl = _money()
    roi_percent = _money(allow_null=True)
    profit_factor = _money(allow_null=True)
    max_drawdown_percent = _money()
    pool_max_drawdown_percent = _money()
    trade_count = serializers.IntegerField()
    cycle_count = serializers.IntegerField()


class PoolDetailSerializer(PoolSerializer):
    track_record = serializers.SerializerMethodField()
    lower_price = serializers.CharField(source="bot.config.lower_price")
    upper_price = serializers.CharField(source="bot.config.upper_price")
    grid_count = serializers.IntegerField(source="bot.config.grid_count")
    bot_status = serializers.CharField(source="bot.status")

    class Meta(PoolSerializer.Meta):
        fields = [*PoolSerializer.Meta.fields, "track_record", "lower_price", "upper_price", "grid_count", "bot_status"]

    @extend_schema(exclude=False)
    def get_track_record(self, pool: Pool) -> TrackRecordSerializer:
        return TrackRecordSerializer(selectors.track_record(pool=pool)).data  # type: ignore[return-value]


class PoolCreateSerializer(serializers.Serializer):
    bot = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    name = serializers.CharField(max_length=80)
    description = serializers.CharField(max_length=2000)
    risk_level = serializers.ChoiceField(choices=Pool.Risk.choices)
    min_investment = _amount()
    max_investment = _amount()
    performance_fee_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=50)
    management_fee_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=5, required=False, default=Decimal(0)
    )


class JoinSerializer(serializers.Serializer):
    exchange_account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = _amount()
    accept_warnings = serializers.BooleanField(required=False, default=False)


class AmountSerializer(serializers.Serializer):
    amount = _amount()


class MembershipSerializer(serializers.ModelSerializer):
    pool_name = serializers.CharField(source="pool.name")
    pool_status = serializers.CharField(source="pool.status")
    pool_is_paper = serializers.BooleanField(source="pool.is_paper")
    bot_status = serializers.CharField(source="bot.status", allow_null=True, default=None)
    amount = _money()
    units = _money()
    hwm = _money()
    nav = _money(source="pool.nav")
    value = serializers.SerializerMethodField(method_name="member_value")
    fees_total = serializers.SerializerMethodField()

    class Meta:
        model = PoolMember
        fields = [
            "id",
            "pool",
            "pool_name",
            "pool_status",
            "pool_is_paper",
            "status",
            "status_note",
            "exchange_account",
            "bot",
            "bot_status",
            "amount",
            "units",
            "hwm",
            "nav",
            "value",
            "fees_total",
            "joined_at",
            "left_at",
        ]

    def member_value(self, member: PoolMember) -> str:
        return format((member.units * member.pool.nav).quantize(Decimal("0.01")), "f")

    def get_fees_total(self, member: PoolMember) -> str:
        total = sum((f.amount for f in selectors.member_fees(member=member)), Decimal(0))
        return format(Decimal(total).quantize(Decimal("0.01")), "f")


class FeeSerializer(serializers.ModelSerializer):
    pool_name = serializers.CharField(source="pool.name")
    amount = _money()
    nav = _money()
    invoice_status = serializers.CharField(
        source="payment.status",
        allow_null=True,
        read_only=True,
        help_text="The investor's invoice for this fee (billing payment status); null: not invoiced yet",
    )

    class Meta:
        model = PoolFee
        fields = ["id", "pool", "pool_name", "kind", "amount", "nav", "created_at", "invoice_status", "paid_at"]


class EarningsSerializer(serializers.Serializer):
    total = _money(help_text="Fees the investors have paid (earned)")
    accrued = _money(help_text="Fees accrued and not paid yet")
    fees = FeeSerializer(many=True)


class RecordPartSerializer(serializers.Serializer):
    bots = serializers.IntegerField()
    trade_count = serializers.IntegerField()
    total_pnl = _money()
    since = serializers.DateTimeField(allow_null=True)


class ManagerRecordSerializer(serializers.Serializer):
    live = RecordPartSerializer(help_text="Bots on real-money accounts, from fills of record")
    paper = RecordPartSerializer(help_text="Bots on paper, demo and testnet accounts (simulated)")


class ManagerStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("none", "Not applied"), *PoolManager.Status.choices], help_text="none: never applied"
    )
    experience = serializers.CharField(allow_blank=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_blank=True)
    record = ManagerRecordSerializer()


class ManagerApplySerializer(serializers.Serializer):
    experience = serializers.CharField(max_length=2000, help_text="Your trading experience in your own words")


def _manager_state(user) -> dict:
    application = selectors.manager_application(user=user)
    return {
        "status": application.status if application else "none",
        "experience": application.experience if application else "",
        "applied_at": application.applied_at if application else None,
        "decided_at": application.decided_at if application else None,
        "decision_note": application.decision_note if application else "",
        "record": selectors.manager_record(user=user),
    }


def _pool_or_404(request, pk: int) -> Pool:
    pool = selectors.pool_visible(pool_id=pk, user=request.user)
    if pool is None:
        raise NotFound("No such pool.")
    return pool


def _account(request, account_id: int) -> ExchangeAccount:
    account = ExchangeAccount.objects.filter(pk=account_id, user=request.user).first()
    if account is None:
        raise serializers.ValidationError({"exchange_account": ["No such exchange account."]})
    return account


def _member_or_404(request, pk: int) -> PoolMember:
    member = selectors.membership(user=request.user, member_id=pk)
    if member is None:
        raise NotFound("No such membership.")
    return member


def _join_input(request, pk: int) -> tuple[Pool, ExchangeAccount, dict]:
    """The visible pool, the user's own account and the validated join body (preview and join)."""
    pool = _pool_or_404(request, pk)
    serializer = JoinSerializer(data=_body(request))
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return pool, _account(request, data["exchange_account"]), data


class PoolListCreateApi(ApiMixin, GenericAPIView):
    serializer_class = PoolSerializer
    queryset = Pool.objects.none()

    def get_permissions(self):
        # reading the list is public; publishing needs a signed-in user (no request: the
        # URL-conf walkers ask what a view allows at all)
        request = getattr(self, "request", None)
        return [AllowAny()] if request is None or request.method == "GET" else super().get_permissions()

    @extend_schema(responses={200: PoolSerializer(many=True)}, summary="Approved pools (public)")
    def get(self, request):
        return Response(PoolSerializer(selectors.pools_public()[:200], many=True).data)

    @extend_schema(
        request=PoolCreateSerializer, responses={201: PoolSerializer, **ERRORS}, summary="Publish a bot as a pool"
    )
    def post(self, request):
        services.manager_check(request.user)  # a non-manager hears why before any field error
        serializer = PoolCreateSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        bot = Bot.objects.filter(pk=data["bot"], user=request.user).first()
        if bot is None:
            raise serializers.ValidationError({"bot": ["No such bot."]})
        pool = services.pool_create(
            manager=request.user,
            bot=bot,
            name=data["name"],
            description=data["description"],
            risk_level=data["risk_level"],
            min_investment=data["min_investment"],
            max_investment=data["max_investment"],
            performance_fee_percent=data["performance_fee_percent"],
            management_fee_percent=data["management_fee_percent"],
        )
        pool = selectors.pools_managed(user=request.user).get(pk=pool.pk)
        return Response(PoolSerializer(pool).data, status=status.HTTP_201_CREATED)


class PoolDetailApi(ApiMixin, GenericAPIView):
    serializer_class = PoolDetailSerializer
    permission_classes = [AllowAny]

    @extend_schema(responses={200: PoolDetailSerializer, 404: ERRORS[404]}, summary="A pool's page (public)")
    def get(self, request, pk: int):
        return Response(PoolDetailSerializer(_pool_or_404(request, pk)).data)


class PoolMineApi(ApiMixin, GenericAPIView):
    serializer_class = PoolSerializer
    queryset = Pool.objects.none()

    @extend_schema(responses={200: PoolSerializer(many=True)}, summary="Pools I manage (any status)")
    def get(self, request):
        return Response(PoolSerializer(selectors.pools_managed(user=request.user)[:200], many=True).data)


class PoolPreviewApi(ApiMixin, GenericAPIView):
    serializer_class = JoinSerializer
    throttle_scope = "preview"

    @extend_schema(
        request=JoinSerializer,
        responses={200: ReportSerializer, **ERRORS},
        summary="The pre-launch report of my follower bot for this amount",
    )
    def post(self, request, pk: int):
        pool, account, data = _join_input(request, pk)
        report = services.member_preview(pool=pool, user=request.user, exchange_account=account, amount=data["amount"])
        return Response(report.to_json())


class PoolJoinApi(ApiMixin, GenericAPIView):
    serializer_class = JoinSerializer

    @extend_schema(request=JoinSerializer, responses={201: MembershipSerializer, **ERRORS}, summary="Join a pool")
    def post(self, request, pk: int):
        pool, account, data = _join_input(request, pk)
        member = services.member_join(
            pool=pool,
            user=request.user,
            exchange_account=account,
            amount=data["amount"],
            accept_warnings=data["accept_warnings"],
        )
        return Response(MembershipSerializer(member).data, status=status.HTTP_201_CREATED)


class MembershipListApi(ApiMixin, GenericAPIView):
    serializer_class = MembershipSerializer
    queryset = PoolMember.objects.none()

    @extend_schema(responses={200: MembershipSerializer(many=True)}, summary="My places in pools")
    def get(self, request):
        return Response(MembershipSerializer(selectors.memberships(user=request.user)[:200], many=True).data)


class MembershipAmountApi(ApiMixin, GenericAPIView):
    serializer_class = AmountSerializer

    @extend_schema(
        request=AmountSerializer, responses={200: MembershipSerializer, **ERRORS}, summary="Add to or reduce my amount"
    )
    def post(self, request, pk: int):
        member = _member_or_404(request, pk)
        serializer = AmountSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        member = services.member_amount_change(
            member=member, user=request.user, amount=serializer.validated_data["amount"]
        )
        return Response(MembershipSerializer(member).data)


class MembershipLeaveApi(ApiMixin, GenericAPIView):
    serializer_class = MembershipSerializer

    @extend_schema(request=None, responses={200: MembershipSerializer, **ERRORS}, summary="Leave the pool")
    def post(self, request, pk: int):
        member = services.member_leave(member=_member_or_404(request, pk), user=request.user)
        return Response(MembershipSerializer(member).data)


class EarningsApi(ApiMixin, GenericAPIView):
    serializer_class = EarningsSerializer

    @extend_schema(responses={200: EarningsSerializer}, summary="Fees credited to me as a manager")
    def get(self, request):
        return Response(EarningsSerializer(selectors.manager_earnings(user=request.user)).data)


class ManagerApi(ApiMixin, GenericAPIView):
    serializer_class = ManagerStateSerializer

    @extend_schema(
        responses={200: ManagerStateSerializer},
        summary="My standing as a pool manager and my record from fills",
    )
    def get(self, request):
        return Response(ManagerStateSerializer(_manager_state(request.user)).data)

    @extend_schema(
        request=ManagerApplySerializer,
        responses={200: ManagerStateSerializer, **ERRORS},
        summary="Apply to become a pool manager (operators review it)",
    )
    def post(self, request):
        serializer = ManagerApplySerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        services.manager_apply(user=request.user, experience=serializer.validated_data["experience"])
        return Response(ManagerStateSerializer(_manager_state(request.user)).data)
class ManagerPayoutSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = ManagerPayout
        fields = ["id", "kind", "rail", "destination", "amount", "currency", "status", "note", "created_at"]
        extra_kwargs = {"destination": {"help_text": "Masked"}}


class ManagerPayoutsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    earned = serializers.DecimalField(max_digits=30, decimal_places=2, help_text="Fees investors have paid")
    pending = serializers.DecimalField(max_digits=30, decimal_places=2, help_text="Requested or being sent")
    paid = serializers.DecimalField(max_digits=30, decimal_places=2)
    available = serializers.DecimalField(max_digits=30, decimal_places=2, help_text="What may be asked for")
    minimum = serializers.DecimalField(max_digits=30, decimal_places=2, help_text="Least payout by a rail")
    rails = serializers.ListField(child=serializers.CharField())
    payouts = ManagerPayoutSerializer(many=True)


class ManagerPayoutInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ManagerPayout.Kind.choices)
    amount = serializers.DecimalField(
        max_digits=20, decimal_places=2, required=False, min_value=Decimal("0.01"), max_value=Decimal("1000000000")
    )
    rail = serializers.ChoiceField(choices=["cryptopay"], required=False, default="")
    destination = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")


class ManagerPayoutsApi(ApiMixin, GenericAPIView):
    """A manager's paid-in fees, what is available, and their payouts; a new payout request."""

    serializer_class = ManagerPayoutsSerializer

    def _state(self, request) -> dict:
        return {
            **manager_balance(user=request.user),
            "payouts": manager_payouts(user=request.user)[:100],
        }

    @extend_schema(responses={200: ManagerPayoutsSerializer}, summary="My manager payouts")
    def get(self, request):
        return Response(ManagerPayoutsSerializer(self._state(request)).data)

    @extend_schema(
        request=ManagerPayoutInput,
        responses={201: ManagerPayoutsSerializer, **ERRORS},
        summary="Ask for a payout of paid-in fees",
    )
    def post(self, request):
        serializer = ManagerPayoutInput(data=_body(request))
        serializer.is_valid(raise_exception=True)
        manager_payout_request(user=request.user, **serializer.validated_data)
        return Response(ManagerPayoutsSerializer(self._state(request)).data, status=status.HTTP_201_CREATED)
