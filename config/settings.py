"""Setka settings: one base, environment variables for everything that differs.

Three ways this runs:
- quick start (`scripts/run`): no URLs set, so SQLite in `var/` and a private Redis that the
  run script starts itself (REDIS_URL is exported by it);
- tests (`scripts/test`): PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL / REDIS_URL);
- production: DJANGO_ENV=production plus real secrets, hosts and URLs; `check --deploy` is clean.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import overload

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SETKA_VAR_DIR", BASE_DIR / "var"))


@overload
def env(name: str) -> str | None: ...
@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DJANGO_ENV = env("DJANGO_ENV", "development")  # development | test | production
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)

_DEV_SECRET = "setka-dev-only-secret-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env("DJANGO_SECRET_KEY", None if PRODUCTION else _DEV_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")

# django-fernet-encrypted-fields derives its Fernet keys from ENCRYPTION_KEYS (ours) rather
# than SECRET_KEY: rotating the session secret must never make stored API keys unreadable.
# The first key encrypts; every key decrypts. Rotation is documented in the README.
_DEV_ENCRYPTION_KEY = "setka-dev-only-encryption-key"
ENCRYPTION_KEYS = env_list("SETKA_ENCRYPTION_KEYS") or ([] if PRODUCTION else [_DEV_ENCRYPTION_KEY])
if not ENCRYPTION_KEYS:
    raise ImproperlyConfigured("SETKA_ENCRYPTION_KEYS must be set in production.")
SALT_KEY = env_list("SETKA_ENCRYPTION_SALTS") or ["setka-api-keys-v1"]

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "channels",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "exchanges",
    "bots",
    "trading",
    "metrics",
    "observability",
    "billing",
    "notifications",
    "support",
    "telegram_bot",
    "announcements",
    "referrals",
    "pools",
    "analytics",
    "oauth2_provider",
    "mcp_server",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RejectBadPathMiddleware",  # NUL bytes, 256+ character segments, 65-bit ids
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "referrals.middleware.ReferralCookieMiddleware",  # a kept referral code, once the new account logs in
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# No DATABASE_URL: the quick-start's embedded SQLite. Tests and production set PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'setka.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat, streams) share the file: wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, channels, celery ---------------------------------------------------------
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("SETKA_CACHE_PREFIX", "setka"),
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [REDIS_URL],
            "prefix": env("SETKA_CHANNELS_PREFIX", "setka:asgi"),
            # All WebSockets of one daphne process share one Redis inbox; the default capacity
            # (100 queued messages) would silently drop events in a burst (one per user).
            "capacity": env_int("SETKA_CHANNELS_CAPACITY", 5000),
        },
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task hands the task to another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker started without -Q consumes the fills' urgent ticks (bots.sharding), the default queue,
# the stop runs, the users' notifications and the slow queue; sharded workers name their queues
# with -Q (README). On Redis a worker takes from its queues in this order (or -Q's), not in turn
# (queue_order_strategy below): a fill's tick never waits behind a backlog of safety ticks and
# passes, only for a process to come free.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name) for name in ("urgent", "celery", "control", "notify", "slow")
)
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Work that holds a process for seconds to minutes goes to `slow`, so that it never holds one of
# the runtime's processes (a candle refresh held one for 36 s in the 1,000-bot benchmark while
# fills waited for their counter orders). At scale one more worker serves it: `-Q slow`.
CELERY_TASK_ROUTES = {
    name: {"queue": "slow"}
    for name in (
        "analytics.tasks.candles_refresh_task",
        "analytics.tasks.backtest_run_task",
        "mcp_server.tasks.regime_watch_task",
        "metrics.tasks.metrics_reconcile_task",
        "metrics.tasks.metrics_snapshot_task",  # chart points of every bot: 4.4 s at 1,000 bots
        "pools.tasks.pools_value_all_task",
        "bots.tasks.digests_send_task",
        "bots.tasks.keys_expiring_notify_task",
        "exchanges.tasks.exchange_accounts_recheck_task",
    )
}
# Telling users (email, Telegram, in-app) is not the bots' runtime either: "stop all" of 1,000
# bots queued 2,000 notification tasks that the ticks' processes ran between the stop ticks.
CELERY_TASK_ROUTES.update(
    {
        name: {"queue": "notify"}
        for name in (
            "notifications.tasks.delivery_send_task",
            "notifications.tasks.deliveries_send_due_task",
            "bots.tasks.bot_stop_notify_task",
            "bots.tasks.bot_event_notify_task",
        )
    }
)
# The operators' stop runs ("stop all", a bulk emergency stop) hold a process for the run (half a
# minute at 1,000 bots, mostly waiting on the venues' quotas in its threads): on the runtime's
# queue that was one of the two processes the 1,005 stop ticks needed. Their own queue, which a
# worker without -Q serves too; at scale the side worker takes it (README).
CELERY_TASK_ROUTES["bots.tasks.stop_run_task"] = {"queue": "control"}
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300, "queue_order_strategy": "priority"}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if DJANGO_ENV == "test":
    # Argon2 on every factory-made user would dominate the test run; one test checks Argon2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
# The one place the password rule lives: the validator uses it, GET /api/app-config/ tells the forms.
SETKA_PASSWORD_MIN_LENGTH = 10
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": SETKA_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutModelBackend",  # ModelBackend + the login lockout (admin login too)
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: email login, mandatory verification, phone verified by SMS code.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"

# Access/refresh tokens in httpOnly cookies (accounts.tokens).
SETKA_ACCESS_TOKEN_TTL = timedelta(seconds=env_int("SETKA_ACCESS_TOKEN_TTL_SECONDS", 15 * 60))
SETKA_REFRESH_TOKEN_TTL = timedelta(days=env_int("SETKA_REFRESH_TOKEN_TTL_DAYS", 14))
SETKA_AUTH_COOKIE_SECURE = env_bool("SETKA_AUTH_COOKIE_SECURE", PRODUCTION)
SETKA_LOGIN_MAX_FAILURES = env_int("SETKA_LOGIN_MAX_FAILURES", 5)
SETKA_LOGIN_LOCKOUT_SECONDS = env_int("SETKA_LOGIN_LOCKOUT_SECONDS", 15 * 60)
SETKA_SMS_BACKEND = env("SETKA_SMS_BACKEND", "accounts.sms.OutboxSmsBackend")
SETKA_LOGIN_MAX_FAILURES_PER_IP = env_int("SETKA_LOGIN_MAX_FAILURES_PER_IP", 20)
SETKA_CODE_SENDS_PER_HOUR = env_int("SETKA_CODE_SENDS_PER_HOUR", 5)  # email/SMS codes per address
SETKA_THROTTLE_AUTH = env("SETKA_THROTTLE_AUTH", "1000/min" if DJANGO_ENV == "test" else "30/min")
SETKA_REFRESH_REUSE_GRACE_SECONDS = env_int("SETKA_REFRESH_REUSE_GRACE_SECONDS", 15)  # two tabs refreshing at once
SETKA_TRUST_X_FORWARDED_FOR = env_bool("SETKA_TRUST_X_FORWARDED_FOR", False)  # only behind a proxy that sets it
SETKA_SIGNUP_OPEN = env_bool("SETKA_SIGNUP_OPEN", True)
# Login lock per (account, IP): from the SETKA_LOGIN_MAX_FAILURES-th failure, a delay that doubles
# from BASE up to MAX seconds (failures remembered for WINDOW); the owner gets an unlock link.
SETKA_LOGIN_LOCKOUT_BASE_SECONDS = env_int("SETKA_LOGIN_LOCKOUT_BASE_SECONDS", 60)
SETKA_LOGIN_LOCKOUT_MAX_SECONDS = env_int("SETKA_LOGIN_LOCKOUT_MAX_SECONDS", 3600)
SETKA_LOGIN_FAILURE_WINDOW_SECONDS = env_int("SETKA_LOGIN_FAILURE_WINDOW_SECONDS", 24 * 3600)
SETKA_PASSWORD_CHANGE_MAX_FAILURES = env_int("SETKA_PASSWORD_CHANGE_MAX_FAILURES", 5)  # per account per window
SETKA_PASSWORD_CHANGE_WINDOW_SECONDS = env_int("SETKA_PASSWORD_CHANGE_WINDOW_SECONDS", 15 * 60)
SETKA_PHONE_NUMBERS_PER_DAY = env_int("SETKA_PHONE_NUMBERS_PER_DAY", 3)  # distinct numbers one account may try
SETKA_PHONE_CODES_PER_HOUR = env_int("SETKA_PHONE_CODES_PER_HOUR", 5)  # SMS codes one account may ask for
SETKA_THROTTLE_SESSION = env("SETKA_THROTTLE_SESSION", "100000/min" if DJANGO_ENV == "test" else "300/min")
# Where users open the app (links in emails, e.g. the login unlock link); in production the
# first allowed host over https unless set.
SETKA_PUBLIC_URL = env(
    "SETKA_PUBLIC_URL",
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION and ALLOWED_HOSTS else "http://127.0.0.1:8000",
)

# --- Email ----------------------------------------------------------------------------------
# Development and tests keep every email in the outbox (admin shows it, tests read it).
EMAIL_BACKEND = env("EMAIL_BACKEND", "accounts.mail.OutboxEmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Setka <no-reply@setka.local>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- DRF ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.CookieTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.LimitOffsetPagination",
    # Bounded size and depth, finite numbers only (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    # Atomic (one Redis script per decision) versions of DRF's throttles: accounts.throttling.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttling.AnonRateThrottle",
        "accounts.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("SETKA_THROTTLE_ANON", "120/min"),
        "user": env("SETKA_THROTTLE_USER", "1200/min"),
        "login": env("SETKA_THROTTLE_LOGIN", "20/min"),
        "ip": env("SETKA_THROTTLE_IP", "3000/min"),
        "export": env("SETKA_THROTTLE_EXPORT", "10/min"),
        "preview": env("SETKA_THROTTLE_PREVIEW", "30/min"),
        "webhook": env("SETKA_THROTTLE_WEBHOOK", "600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Setka API",
    "DESCRIPTION": "Grid-trading bots on Bybit: accounts, exchange keys, bots, orders, trades, metrics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # choice sets whose field names ("status", "kind", "queue") other apps use for other choices
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "support.models.Ticket.Status",
        "TicketQueueEnum": "support.models.Ticket.Queue",
        "PayoutKindEnum": "referrals.models.Payout.Kind",
        "PayoutStatusEnum": "referrals.models.Payout.Status",
        "PoolStatusEnum": "pools.models.Pool.Status",
        "PoolMemberStatusEnum": "pools.models.PoolMember.Status",
        "PoolFeeKindEnum": "pools.models.PoolFee.Kind",
    },
}

# --- Exchanges ------------------------------------------------------------------------------
# The paper-trading simulator (exchanges/simulator) that paper accounts and tests talk to.
SETKA_SIMULATOR_URL = env("SETKA_SIMULATOR_URL", "http://127.0.0.1:8765")
# Market data (analytics): how far back a new series is downloaded, in days of 1-minute candles.
SETKA_ANALYTICS_BACKFILL_DAYS = env_int("SETKA_ANALYTICS_BACKFILL_DAYS", 30)
# Development has a well-known default; production has none, and a weak one is refused
# (exchanges/simulator/controlapi.py `control_token_problem`).
SETKA_SIMULATOR_CONTROL_TOKEN = env("SETKA_SIMULATOR_CONTROL_TOKEN", "" if PRODUCTION else "setka-dev-control-token")
SETKA_PAPER_FUNDING_USDT = env("SETKA_PAPER_FUNDING_USDT", "10000")
SETKA_SIMULATOR_WS_URL = env("SETKA_SIMULATOR_WS_URL", "")  # default: SETKA_SIMULATOR_URL with ws://
# Bybit adapter: request timeout (s), longest client-side rate-limit wait before backing off (s),
# and per-environment (rest_url, ws_url) overrides of Bybit's hosts (tests, egress proxies).
SETKA_EXCHANGE_TIMEOUT = float(env("SETKA_EXCHANGE_TIMEOUT", "10"))
SETKA_EXCHANGE_RATELIMIT_MAX_WAIT = float(env("SETKA_EXCHANGE_RATELIMIT_MAX_WAIT", "5"))
SETKA_BYBIT_ENDPOINTS: dict[str, tuple[str, str]] = {}
# The other venues (exchanges/venues.py): the twin each paper account talks to (one simulator
# per venue, `manage.py run_simulator --venue NAME`), per-environment overrides of each venue's
# REST base URL, Setka's own broker id per venue ("" = none; ccxt's ids are never sent), and the
# hosts an exchange request may go to (loopback only unless an operator widens it).
SETKA_VENUE_SIMULATOR_URLS: dict[str, str] = {
    "okx": env("SETKA_SIMULATOR_OKX_URL", "http://127.0.0.1:8766"),
    "binance": env("SETKA_SIMULATOR_BINANCE_URL", "http://127.0.0.1:8767"),
    "mexc": env("SETKA_SIMULATOR_MEXC_URL", "http://127.0.0.1:8768"),
    "kucoin": env("SETKA_SIMULATOR_KUCOIN_URL", "http://127.0.0.1:8769"),
}
SETKA_VENUE_ENDPOINTS: dict[str, dict[str, str]] = {}
SETKA_BROKER_IDS: dict[str, str] = {
    "bybit": env("SETKA_BROKER_ID_BYBIT", ""),  # pybit's Referer header
    "okx": env("SETKA_BROKER_ID_OKX", ""),  # the order's `tag`
    # "partner-id:partner-secret": KuCoin's KC-API-PARTNER headers are signed with the partner's
    # secret; without both, no partner header is sent (never ccxt's own)
    "kucoin": env("SETKA_BROKER_ID_KUCOIN", ""),
    "binance": env("SETKA_BROKER_ID_BINANCE", ""),
    "mexc": env("SETKA_BROKER_ID_MEXC", ""),
}
SETKA_EXCHANGE_ALLOWED_HOSTS = tuple(
    h.strip() for h in env("SETKA_EXCHANGE_ALLOWED_HOSTS", "127.0.0.1,localhost,::1").split(",") if h.strip()
)

# --- Bots -----------------------------------------------------------------------------------
SETKA_BOT_TICK_SECONDS = env_int("SETKA_BOT_TICK_SECONDS", 5)
# The safety net reconciles per exchange account (bots.services.account_sync): one open-orders
# and one executions request per account and category, a bot is ticked only when those show
# it something new. Beat passes an account whose stream is down, quiet, reconnected or absent
# at once, and every account at least once per SETKA_SAFETY_SECONDS (30 s: 100 accounts x 2
# requests = ~33 requests per 5 s, about 6 % of Bybit's 600 per 5 s per IP). Off: beat ticks
# every running bot every SETKA_BOT_TICK_SECONDS, as before.
SETKA_ACCOUNT_SYNC = env_bool("SETKA_ACCOUNT_SYNC", True)
SETKA_SAFETY_SECONDS = env_int("SETKA_SAFETY_SECONDS", 30)
# Each running bot still gets a full tick this often (its funding settlements and a full look at
# its orders without fills; the account passes revalue it at the last price every safety
# interval), and bots with a price or profit target every SETKA_BOT_TICK_SECONDS (their stop loss
# must not wait). At 300 s the full ticks of 1,000 bots took half of a worker's two processes.
SETKA_BOT_REFRESH_SECONDS = env_int("SETKA_BOT_REFRESH_SECONDS", 1800)
# A worker's tick never sleeps longer than this for room in an account's (or the IP's) rate
# budget: it stops before that request and is queued again for when there is room
# (exchanges.ratelimit.budget_wait_at_most), so one account's quota never holds a process.
SETKA_TICK_BUDGET_WAIT_SECONDS = float(env("SETKA_TICK_BUDGET_WAIT_SECONDS", "0.25"))
# Ticks and streams partitioned by exchange account over this many shards (bots.sharding).
SETKA_SHARDS = env_int("SETKA_SHARDS", 1)
SETKA_METRICS_SNAPSHOT_SECONDS = env_int("SETKA_METRICS_SNAPSHOT_SECONDS", 300)
SETKA_BOT_LEASE_SECONDS = env_int("SETKA_BOT_LEASE_SECONDS", 60)
SETKA_BOT_MAX_RESTARTS = env_int("SETKA_BOT_MAX_RESTARTS", 5)
SETKA_BOT_RESTART_BACKOFF_SECONDS = env_int("SETKA_BOT_RESTART_BACKOFF_SECONDS", 10)
SETKA_TRADING_HALTED = env_bool("SETKA_TRADING_HALTED", False)

# --- Billing (stage 2b: plans, payments) -------------------------------------------------------
# Registration: "invite" = stage 1 (trading needs an operator's access code), "open" = anyone who
# signs up trades on the free plan and may buy a paid one.
SETKA_REGISTRATION_MODE = env("SETKA_REGISTRATION_MODE", "invite")
# Two-factor (TOTP through allauth.mfa): users may turn it on; operators and staff must have it
# to enter the admin (on wherever DEBUG is off, i.e. production).
MFA_SUPPORTED_TYPES = ["totp"]
MFA_TOTP_ISSUER = "Setka"
MFA_ADAPTER = "accounts.mfa_adapter.MfaAdapter"  # the TOTP secret encrypted at rest
SETKA_ADMIN_REQUIRE_MFA = env_bool("SETKA_ADMIN_REQUIRE_MFA", not DEBUG)
SETKA_BILLING_GRACE_DAYS = env_int("SETKA_BILLING_GRACE_DAYS", 7)
SETKA_BILLING_PAST_DUE_HOURS = env_int("SETKA_BILLING_PAST_DUE_HOURS", 24)
# Users are reminded this many days before a paid period (or a trial) ends to pay the next one.
SETKA_BILLING_REMIND_DAYS = env_int("SETKA_BILLING_REMIND_DAYS", 3)
SETKA_BILLING_RECONCILE_SECONDS = env_int("SETKA_BILLING_RECONCILE_SECONDS", 300)
# Where the payer returns after paying; empty = the address the checkout request came to.
SETKA_BILLING_PUBLIC_URL = env("SETKA_BILLING_PUBLIC_URL", "")
# Rails. Every URL defaults to the fakes in billing/fakes on 127.0.0.1; production sets the real
# hosts. A test (tests/billing/test_loopback.py) proves that dev/test configure no other host.
SETKA_YOOKASSA_API_URL = env("SETKA_YOOKASSA_API_URL", "http://127.0.0.1:8770/v3")
SETKA_YOOKASSA_SHOP_ID = env("SETKA_YOOKASSA_SHOP_ID", "" if PRODUCTION else "100500")
SETKA_YOOKASSA_SECRET_KEY = env("SETKA_YOOKASSA_SECRET_KEY", "" if PRODUCTION else "test_setka_fake_secret")
# YooKassa does not sign notifications: only these networks may deliver them (its published
# ranges in production, loopback where the fake runs).
_YOOKASSA_NETWORKS = (
    "77.75.153.0/25,77.75.156.11/32,77.75.156.35/32,77.75.154.128/25,185.71.76.0/27,185.71.77.0/27,"
    "2a02:5180:0:1509::/64,2a02:5180:0:2655::/64,2a02:5180:0:1533::/64,2a02:5180:0:2669::/64"
)
SETKA_YOOKASSA_WEBHOOK_NETWORKS = env_list(
    "SETKA_YOOKASSA_WEBHOOK_NETWORKS", _YOOKASSA_NETWORKS if PRODUCTION else "127.0.0.1/32"
)
SETKA_YOOKASSA_VAT_CODE = env_int("SETKA_YOOKASSA_VAT_CODE", 1)  # 54-FZ: 1 = without VAT (USN)
SETKA_YOOKASSA_TAX_SYSTEM_CODE = env_int("SETKA_YOOKASSA_TAX_SYSTEM_CODE", 2)  # 2 = USN income
# YooKassa pays out through its payout gateway (its own agent id and key; the shop's in dev).
SETKA_YOOKASSA_PAYOUT_AGENT_ID = env("SETKA_YOOKASSA_PAYOUT_AGENT_ID", "")
SETKA_YOOKASSA_PAYOUT_SECRET_KEY = env("SETKA_YOOKASSA_PAYOUT_SECRET_KEY", "")
# The key of the payer-instrument fingerprints (HMAC-SHA256 of a card's first6/last4/expiry):
# changing it makes old fingerprints unequal to new ones. Unset, it is derived from the first
# encryption key (set it explicitly to rotate SETKA_ENCRYPTION_KEYS without losing matches).
SETKA_INSTRUMENT_FINGERPRINT_KEY = (
    env("SETKA_INSTRUMENT_FINGERPRINT_KEY", "")
    or hashlib.sha256(f"setka-instrument-fingerprint:{ENCRYPTION_KEYS[0]}".encode()).hexdigest()
)
# The least a payout by each rail may be (per currency); a partner tier may ask for more.
SETKA_PAYOUT_MINIMUMS = {
    "yookassa": {"RUB": Decimal(env("SETKA_PAYOUT_MIN_RUB", "500.00"))},
    "cryptopay": {"USDT": Decimal(env("SETKA_PAYOUT_MIN_USDT", "5.00"))},
}
# Payouts other apps send through billing (billing/services/payouts.py): key prefix -> who is told.
SETKA_PAYOUT_LISTENERS = {
    "referral_payout:": "referrals.services.referral_payout_settled",
    "pool_payout:": "pools.payouts.pool_payout_settled",
}
SETKA_CRYPTOPAY_API_URL = env("SETKA_CRYPTOPAY_API_URL", "http://127.0.0.1:8771/api")
SETKA_CRYPTOPAY_TOKEN = env("SETKA_CRYPTOPAY_TOKEN", "" if PRODUCTION else "1234:AAsetkaFakeCryptoPayToken")
# The seller of record per rail (crypto must be sold by a non-Russian entity: docs/stages.md).
SETKA_BILLING_SELLERS = {
    "yookassa": env("SETKA_SELLER_YOOKASSA", "ООО «Сетка», ИНН 0000000000"),
    "cryptopay": env("SETKA_SELLER_CRYPTOPAY", "Setka Global Ltd (non-RU entity)"),
}
SETKA_BILLING_RAILS = env_list("SETKA_BILLING_RAILS", "yookassa,cryptopay")
# Referrals (stage 6): rewards stay "accrued" for the refund window, then become available;
# a referral code attributes a new account only within this many hours of its sign-up and
# before its first payment; sign-ups per code beyond the daily limit are flagged for review.
# Called (dotted path, with the bot id) after commit whenever a bot's lifecycle changes (bots/hooks.py).
SETKA_BOT_CHANGE_LISTENERS = ["pools.services.pool_manager_bot_changed"]
# Charges other apps invoice through billing (billing/hooks.py): key prefix -> who is told when paid.
SETKA_CHARGE_LISTENERS = {"pool_fee:": "pools.services.pool_fee_charge_settled"}
# Payment rails whose adapter lives in another app (billing.providers.provider_for): code -> class.
SETKA_BILLING_PROVIDER_ADAPTERS = {"telegram_stars": "telegram_bot.stars.StarsProvider"}
# Pools: how long after a manager's change the follow task looks again while followers stop.
SETKA_POOL_FOLLOW_RETRY_SECONDS = env_int("SETKA_POOL_FOLLOW_RETRY_SECONDS", 3)
SETKA_REFERRAL_HOLD_DAYS = env_int("SETKA_REFERRAL_HOLD_DAYS", 14)
SETKA_REFERRAL_ATTRIBUTION_HOURS = env_int("SETKA_REFERRAL_ATTRIBUTION_HOURS", 72)
SETKA_REFERRAL_SIGNUPS_PER_CODE_PER_DAY = env_int("SETKA_REFERRAL_SIGNUPS_PER_CODE_PER_DAY", 20)
# Tests route a non-paper Bybit environment to the simulator (a "live" bot that never leaves
# 127.0.0.1): SETKA_BYBIT_ENDPOINTS_JSON='{"mainnet": ["http://127.0.0.1:PORT", "ws://127.0.0.1:PORT"]}'.
if env("SETKA_BYBIT_ENDPOINTS_JSON"):
    import json as _json

    SETKA_BYBIT_ENDPOINTS.update({k: tuple(v) for k, v in _json.loads(env("SETKA_BYBIT_ENDPOINTS_JSON", "{}")).items()})

# --- i18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The built Nuxt app (frontend/.output/public) is served at / by config.frontend.
FRONTEND_DIST = Path(env("SETKA_FRONTEND_DIST", str(BASE_DIR / "frontend" / ".output" / "public")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "csrftoken"  # read by the SPA and sent back as X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging --------------------------------------------------------------------------------
# Secrets never reach a log: exchanges.logging.RedactSecretsFilter masks key-shaped values.
# Logs: "plain" for a person at a terminal, "json" (one object a line with bot/account ids) for
# a log pipeline; production defaults to json.
SETKA_LOG_FORMAT = env("SETKA_LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "config.logging.RedactSecretsFilter"},
        "context": {"()": "observability.logs.ContextFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "observability.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": SETKA_LOG_FORMAT,
            "filters": ["redact", "context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "pybit": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# Prometheus: /metrics on the web process sums every process's figures when
# PROMETHEUS_MULTIPROC_DIR names a shared folder (scripts/run sets it). A token, when set, is
# required as "Authorization: Bearer <token>".
SETKA_METRICS_TOKEN = env("SETKA_METRICS_TOKEN", "")

# --- Support and notifications (issue 14) -------------------------------------------------------
# Ticket attachments are stored here and served only through the API to their owner and staff.
MEDIA_ROOT = Path(env("SETKA_MEDIA_ROOT", str(VAR_DIR / "media")))
SUPPORT_ATTACHMENT_MAX_BYTES = env_int("SUPPORT_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
SUPPORT_ATTACHMENTS_PER_MESSAGE = env_int("SUPPORT_ATTACHMENTS_PER_MESSAGE", 5)
# --- Telegram bot (telegram_bot) -------------------------------------------------------------
# The Bot API the bot talks to. Development and tests: the fake on 127.0.0.1
# (python -m telegram_bot.fakes.botapi, started by scripts/run); production sets the real one.
SETKA_TELEGRAM_API_URL = env("SETKA_TELEGRAM_API_URL", "http://127.0.0.1:8781")
SETKA_TELEGRAM_BOT_TOKEN = env("SETKA_TELEGRAM_BOT_TOKEN", "123456:SETKA-dev-token")
SETKA_TELEGRAM_BOT_USERNAME = env("SETKA_TELEGRAM_BOT_USERNAME", "setka_bot")
SETKA_TELEGRAM_WEBHOOK_SECRET = env("SETKA_TELEGRAM_WEBHOOK_SECRET", "")  # webhook mode only
SETKA_TELEGRAM_LINK_TTL_SECONDS = env_int("SETKA_TELEGRAM_LINK_TTL_SECONDS", 15 * 60)
SETKA_TELEGRAM_CHAT_PER_SECOND = env_int("SETKA_TELEGRAM_CHAT_PER_SECOND", 1)
SETKA_TELEGRAM_GLOBAL_PER_SECOND = env_int("SETKA_TELEGRAM_GLOBAL_PER_SECOND", 30)
# A plan's price in Stars = its USDT price x this, rounded up.
SETKA_TELEGRAM_STARS_PER_USDT = env("SETKA_TELEGRAM_STARS_PER_USDT", "77")
SETKA_TELEGRAM_LIMIT_PREFIX = env("SETKA_TELEGRAM_LIMIT_PREFIX", "setka:telegram")
# The profile's "press Start" against the fake Bot API (never in production).
SETKA_TELEGRAM_DEV_TOOLS = env_bool("SETKA_TELEGRAM_DEV_TOOLS", default=not PRODUCTION)

# --- Official channels (announcements) -------------------------------------------------------
SETKA_TELEGRAM_CHANNEL = env("SETKA_TELEGRAM_CHANNEL", "@setka_news")  # the channel the bot posts to
# VK community wall through vk-api; development and tests: the fake (python -m announcements.fakes.vkapi).
SETKA_VK_API_URL = env("SETKA_VK_API_URL", "http://127.0.0.1:8783")
SETKA_VK_API_VERSION = env("SETKA_VK_API_VERSION", "5.199")
SETKA_VK_TOKEN = env("SETKA_VK_TOKEN", "vk-dev-token")
SETKA_VK_GROUP_ID = env_int("SETKA_VK_GROUP_ID", 1)
SETKA_VK_CONFIRMATION = env("SETKA_VK_CONFIRMATION", "setka-dev-confirm")  # Callback API confirmation string
SETKA_VK_CALLBACK_SECRET = env("SETKA_VK_CALLBACK_SECRET", "")
# --- MCP server (mcp_server; its own uvicorn process, `uvicorn mcp_server.asgi:app`) ---------
# The OAuth issuer and this resource's URL (announced in the protected-resource metadata); the
# Host/Origin headers the MCP process accepts (DNS-rebinding protection; ":*" = any port).
MCP_ISSUER_URL = env("MCP_ISSUER_URL", SETKA_PUBLIC_URL)
MCP_RESOURCE_URL = env("MCP_RESOURCE_URL", "http://127.0.0.1:8001/mcp/")
MCP_ALLOWED_HOSTS = env_list("MCP_ALLOWED_HOSTS", "127.0.0.1:*,localhost:*,[::1]:*")
MCP_ALLOWED_ORIGINS = env_list("MCP_ALLOWED_ORIGINS", "http://127.0.0.1:*,http://localhost:*")
MCP_CONFIRM_TTL = env_int("MCP_CONFIRM_TTL", 120)  # seconds a confirmation token lives
MCP_MONEY_ACTIONS_PER_MINUTE = env_int("MCP_MONEY_ACTIONS_PER_MINUTE", 10)
# Optional OpenAI-compatible endpoint for a plain-language summary of the trade study (e.g.
# http://127.0.0.1:11434/v1); empty: the study's facts are shown as structured text.
MCP_SUMMARY_LLM_URL = env("MCP_SUMMARY_LLM_URL", "")
MCP_SUMMARY_LLM_MODEL = env("MCP_SUMMARY_LLM_MODEL", "")
MCP_SUMMARY_LLM_KEY = env("MCP_SUMMARY_LLM_KEY", "")
# OAuth 2.1 authorization server for MCP clients (django-oauth-toolkit at /o/): authorization
# code with PKCE only, tokens stored as their SHA-256 (RFC 9700), scopes read and trade.
OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "SCOPES": {"read": "Read your bots, orders, trades and metrics", "trade": "Create, start and stop your bots"},
    "DEFAULT_SCOPES": ["read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("MCP_OAUTH_ACCESS_TOKEN_SECONDS", 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("MCP_OAUTH_REFRESH_TOKEN_SECONDS", 30 * 86400),
    "ROTATE_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
