"""Why a bot does not trade: every cause the troubleshooter can name, with its title and fix in
Russian and English (str.format with the finding's params) and the knowledge-base article."""

from __future__ import annotations

CAUSES: dict[str, dict] = {
    "trading_halt": {
        "article": "trading-halt",
        "ru": (
            "Торговля приостановлена операторами",
            "Это временно и касается всех. Дождитесь объявления о возобновлении и запустите бота снова.",
        ),
        "en": (
            "Trading is halted by the operators",
            "This is temporary and affects everyone. Wait for the all-clear and start the bot again.",
        ),
    },
    "key_expired": {
        "article": "api-key-problems",
        "ru": (
            "Срок API-ключа истёк",
            "Создайте на бирже новый ключ (с правом торговли, без вывода) и привяжите его на странице «Аккаунты».",
        ),
        "en": (
            "The API key has expired",
            "Create a new key on the exchange (trade permission, no withdrawals) and bind it on the Accounts page.",
        ),
    },
    "key_revoked": {
        "article": "api-key-problems",
        "ru": (
            "Биржа больше не принимает API-ключ",
            "Ключ удалён или отозван на бирже. Создайте новый ключ и привяжите его на странице «Аккаунты».",
        ),
        "en": (
            "The exchange no longer accepts the API key",
            "The key was deleted or revoked on the exchange. Create a new one and bind it on the Accounts page.",
        ),
    },
    "key_undecryptable": {
        "article": "api-key-problems",
        "ru": (
            "Ключи этого аккаунта нельзя использовать",
            "Мы не можем расшифровать сохранённые ключи. Привяжите ключи аккаунта заново.",
        ),
        "en": (
            "This account's keys cannot be used",
            "The stored keys cannot be decrypted. Bind the account's keys again.",
        ),
    },
    "key_permissions": {
        "article": "api-key-problems",
        "ru": (
            "У API-ключа нет права торговли",
            "Ключ только для чтения. Включите на бирже право торговли (спот/деривативы) или создайте новый ключ.",
        ),
        "en": (
            "The API key cannot trade",
            "The key is read-only. Enable trading (spot/derivatives) for it on the exchange or create a new key.",
        ),
    },
    "plan_limit": {
        "article": "plan-limits",
        "ru": (
            "Достигнут лимит тарифа",
            "{detail} Остановите другого бота или перейдите на тариф выше на странице «Тарифы».",
        ),
        "en": ("Your plan's limit is reached", "{detail} Stop another bot or upgrade on the Pricing page."),
    },
    "plan_hold": {
        "article": "plan-limits",
        "ru": (
            "Тариф не оплачен: бот не открывает новые циклы",
            "Защитные ордера на месте. Продлите тариф на странице «Оплата», и бот продолжит работу.",
        ),
        "en": (
            "Your plan is unpaid: the bot opens no new cycles",
            "Its protective orders stay. Renew your plan on the Billing page and the bot trades on.",
        ),
    },
    "bot_stopped": {
        "article": "bot-stopped",
        "ru": (
            "Бот остановлен: {reason}",
            "Откройте журнал бота, устраните причину и запустите его снова (перезапуск построит сетку от текущей цены).",
        ),
        "en": (
            "The bot is stopped: {reason}",
            "Read the bot's log, fix the cause and start it again (a restart builds the grid from the current price).",
        ),
    },
    "price_out_of_range": {
        "article": "price-out-of-range",
        "ru": (
            "Цена вне диапазона сетки",
            "Цена {price} вне диапазона {low}–{high}: ордеров для исполнения нет. Дождитесь возврата цены или пересоздайте бота с новым диапазоном.",
        ),
        "en": (
            "The price is outside the grid's range",
            "The price {price} is outside {low}–{high}, so no order can fill. Wait for the price to return or recreate the bot with a new range.",
        ),
    },
    "insufficient_balance": {
        "article": "insufficient-balance",
        "ru": (
            "Недостаточно средств на бирже",
            "Нужно {need} {coin}, доступно {have} {coin}. Пополните счёт на бирже или уменьшите сумму инвестиции.",
        ),
        "en": (
            "Not enough funds on the exchange",
            "The bot needs {need} {coin}; {have} {coin} is available. Top up the exchange account or lower the investment.",
        ),
    },
    "below_minimum": {
        "article": "order-minimum",
        "ru": (
            "Ордера меньше минимума биржи",
            "Один ордер сетки — около {per_order} {coin}, а биржа принимает от {minimum} {coin}. Уменьшите число линий или увеличьте инвестицию.",
        ),
        "en": (
            "Orders are below the exchange's minimum",
            "One grid order is about {per_order} {coin}; the exchange takes at least {minimum} {coin}. Use fewer lines or invest more.",
        ),
    },
    "exchange_errors": {
        "article": "exchange-errors",
        "ru": (
            "Биржа отклоняет запросы бота",
            "Последняя ошибка: {error}. Если она повторяется, откройте обращение — мы приложим диагностику.",
        ),
        "en": (
            "The exchange refuses the bot's requests",
            "The latest error: {error}. If it keeps happening, open a ticket; we attach the diagnostics.",
        ),
    },
    "awaiting_trigger": {
        "article": "bot-stopped",
        "ru": ("Бот ждёт цену запуска", "Бот начнёт торговать, когда цена дойдёт до {trigger}. Это не ошибка."),
        "en": (
            "The bot waits for its trigger price",
            "The bot starts trading when the price reaches {trigger}. This is not an error.",
        ),
    },
    "not_started": {
        "article": "bot-stopped",
        "ru": ("Бот ещё не запущен", "Откройте бота и нажмите «Запустить»."),
        "en": ("The bot has not been started", "Open the bot and press Start."),
    },
    "none": {
        "article": "grid-trading-basics",
        "ru": (
            "Проблем не найдено",
            "Сеточный бот торгует, только когда цена пересекает линии сетки; в спокойном рынке сделок может не быть часами.",
        ),
        "en": (
            "No problem found",
            "A grid bot trades only when the price crosses its lines; in a quiet market there may be no trades for hours.",
        ),
    },
}


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def cause_text(*, cause: str, params: dict, language: str) -> tuple[str, str]:
    spec = CAUSES[cause]
    title, fix = spec.get(language) or spec["ru"]
    values = _Params({k: ("" if v is None else v) for k, v in params.items()})
    return title.format_map(values), fix.format_map(values)
