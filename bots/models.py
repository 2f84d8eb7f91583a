"""Bots: configuration (validated JSON), lifecycle state, the tick lease and the event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Bot(models.Model):
    class Kind(models.TextChoices):
        GRID = "grid", "Grid"

    class Category(models.TextChoices):
        SPOT = "spot", "Spot"
        LINEAR = "linear", "Linear perpetual"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        STARTING = "starting", "Starting"
        RUNNING = "running", "Running"
        STOPPING = "stopping", "Stopping"
        STOPPED = "stopped", "Stopped"
        ERROR = "error", "Error"

    ACTIVE_STATUSES = (Status.STARTING, Status.RUNNING, Status.STOPPING, Status.ERROR)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bots")
    exchange_account = models.ForeignKey("exchanges.ExchangeAccount", on_delete=models.PROTECT, related_name="bots")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.GRID)
    category = models.CharField(max_length=8, choices=Category.choices, default=Category.SPOT)
    symbol = models.CharField(max_length=32)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Validated by bots.schemas (JSON Schema) and parsed into bots.engine's GridConfig.
    config = models.JSONField()
    # The pre-launch report the user saw and the warnings they confirmed.
    report = models.JSONField(default=dict, blank=True)
    warnings_accepted_at = models.DateTimeField(null=True, blank=True)
    investment = models.DecimalField(max_digits=38, decimal_places=18)
    # Instrument rules captured at start so that the plan never changes under a running bot.
    instrument = models.JSONField(default=dict, blank=True)
    # Runtime fields of the current run (the grid itself lives in GridSnapshot, owned by
    # bots.services.grid_state). Reset when the bot starts again.
    close_action = models.CharField(
        max_length=16, blank=True, default="", help_text="keep | sell_base | close_position; empty: the config's"
    )
    awaiting_trigger = models.BooleanField(default=False, help_text="Launch waits for the trigger price")
    last_price = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    fills_seen_until = models.DateTimeField(null=True, blank=True, help_text="Executions fetched up to here")
    funding_seen_until = models.DateTimeField(
        null=True, blank=True, help_text="Funding settlements fetched up to here (linear)"
    )
    transient_errors = models.PositiveIntegerField(default=0, help_text="Exchange timeouts in a row")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=300, blank=True, default="")
    # Why the bot stopped, as a code of config.codes.STOP_REASONS (the app says it in the
    # user's language; `stop_reason` keeps the English detail for operators).
    stop_code = models.CharField(max_length=40, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    restart_count = models.PositiveIntegerField(default=0)
    next_restart_at = models.DateTimeField(null=True, blank=True)
    # The tick lease: one conditional UPDATE takes it, so two ticks of one bot never overlap.
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    _lease_owner: str  # not a column: the tick holding the lease, set in memory by bots.services.tick
    lease_until = models.DateTimeField(null=True, blank=True)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    # When an account pass (bots.services.account_sync) last found the exchange's open orders and
    # executions matching this bot's rows without ticking it; with last_tick_at, the later of the
    # two is when the bot was last known to be in line with the exchange.
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # Generation of client order ids: bumped on each (re)start so ids never collide across runs.
    generation = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["symbol"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(investment__gt=0), name="bot_investment_positive"),
        ]
        permissions = [("stop_bot", "Can emergency-stop any user's bot and halt all trading")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} {self.symbol} ({self.status})"


class AccountSync(models.Model):
    """The account pass's cursor for one exchange account and category: executions are read
    from `fills_seen_until` minus an overlap (duplicates dropped by exec id), and `passed_at`
    is when the last pass finished (beat passes every account at least once per
    SETKA_SAFETY_SECONDS)."""

    exchange_account = models.ForeignKey("exchanges.ExchangeAccount", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=8, choices=Bot.Category.choices)
    fills_seen_until = models.DateTimeField(null=True, blank=True)
    passed_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Failed passes in a row")
    last_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange_account", "category"], name="account_sync_once_per_category")
        ]

    def __str__(self) -> str:
        return f"account pass of account #{self.exchange_account_id} {self.category}"


class GridSnapshot(models.Model):
    """The typed grid state of the bot's current run (bots.engine.state.GridState.to_json), one
    row per bot. `version` grows by one on every write, and every write is conditional on the
    version read (UPDATE ... WHERE version = read), so two writers can never both win; the
    pending order rows of a plan are written in the same transaction, before any is sent."""

    bot = models.OneToOneField(Bot, on_delete=models.CASCADE, related_name="grid_snapshot")
    generation = models.PositiveIntegerField()
    version = models.PositiveBigIntegerField(default=1)
    data = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"grid state of bot #{self.bot_id} run {self.generation} v{self.version}"


class BotPosition(models.Model):
    """The futures position of a linear bot's symbol as the exchange last reported it (private
    stream `position` messages; one REST read when a stream opens). One row per bot."""

    class Side(models.TextChoices):
        BUY = "Buy", "Long"
        SELL = "Sell", "Short"

    bot = models.OneToOneField(Bot, on_delete=models.CASCADE, related_name="position")
    side = models.CharField(max_length=4, choices=Side.choices, blank=True, default="")
    size = models.DecimalField(max_digits=38, decimal_places=18, default=0)
    entry_price = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    leverage = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    mark_price = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    unrealized_pnl = models.DecimalField(max_digits=38, decimal_places=18, default=0)
    liquidation_price = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    reported_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(size__gte=0), name="bot_position_size_not_negative")]

    def __str__(self) -> str:
        return f"position of bot #{self.bot_id}: {self.side or 'flat'} {self.size}"


class BotEvent(models.Model):
    """Every decision a bot makes, with its reason. Users and operators read this log."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STARTED = "started", "Started"
        PLACED = "placed", "Order placed"
        FILLED = "filled", "Order filled"
        REPLACED = "replaced", "Counter order"
        CANCELLED = "cancelled", "Order cancelled"
        TARGET_HIT = "target_hit", "Target hit"
        STOPPED = "stopped", "Stopped"
        ERROR = "error", "Error"
        RESTART = "restart", "Restart"
        WARNING = "warning", "Warning"
        INFO = "info", "Info"

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["bot", "-id"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class StopNotice(models.Model):
    """One stop of one run of a bot (a run = a generation) that its owner is told about by
    email. The unique row makes the notification idempotent: a retried task sends nothing."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="stop_notices")
    generation = models.PositiveIntegerField()
    stop_code = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "generation"], name="stop_notice_once_per_run")]

    def __str__(self) -> str:
        return f"stop notice bot #{self.bot_id} run {self.generation}"


class TradingSwitch(models.Model):
    """The operators' "stop all bots" switch (one row, pk=1). While `halted` is on (or the
    SETKA_TRADING_HALTED setting is), no bot may start and every running bot was stopped."""

    halted = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "trading switch"
        verbose_name_plural = "trading switch"

    def __str__(self) -> str:
        return "Trading HALTED" if self.halted else "Trading allowed"
