"""What the bot says, in Russian (the default) and English. Placeholders are str.format names."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "hello_stranger": {
        "ru": "Это бот Сетки. Чтобы получать уведомления и управлять ботами, откройте профиль в приложении "
        "и нажмите «Привязать Telegram».",
        "en": "This is Setka's bot. To get notifications and manage your bots, open your profile in the app "
        "and press “Link Telegram”.",
    },
    "link_failed": {
        "ru": "Ссылка недействительна или устарела. Создайте новую в профиле.",
        "en": "This link is invalid or has expired. Create a new one in your profile.",
    },
    "linked": {
        "ru": "Готово: Telegram привязан к аккаунту {email}. Команды: /status /bots /profit /support",
        "en": "Done: Telegram is linked to {email}. Commands: /status /bots /profit /support",
    },
    "hello_linked": {
        "ru": "Команды: /status — сводка, /bots — ваши боты, /bot N — бот, /profit — прибыль, /stop N — остановить, "
        "/support — написать в поддержку",
        "en": "Commands: /status — summary, /bots — your bots, /bot N — one bot, /profit — profit, /stop N — stop, "
        "/support — write to support",
    },
    "status": {
        "ru": "Активных ботов: {active} из {total}\nВложено: {invested} USDT\nОбщий результат: {total_pnl} USDT",
        "en": "Active bots: {active} of {total}\nInvested: {invested} USDT\nTotal result: {total_pnl} USDT",
    },
    "no_bots": {"ru": "У вас пока нет ботов.", "en": "You have no bots yet."},
    "bots_header": {"ru": "Ваши боты:", "en": "Your bots:"},
    "bot_line": {"ru": "#{id} {name} · {symbol} · {status}", "en": "#{id} {name} · {symbol} · {status}"},
    "bot_detail": {
        "ru": "#{id} {name}\n{symbol} · {status}\nВложено: {invested} USDT\nПрибыль сетки: {grid_profit} USDT\n"
        "Общий результат: {total_pnl} USDT\nЦиклов: {cycles}",
        "en": "#{id} {name}\n{symbol} · {status}\nInvested: {invested} USDT\nGrid profit: {grid_profit} USDT\n"
        "Total result: {total_pnl} USDT\nCycles: {cycles}",
    },
    "bot_usage": {"ru": "Укажите номер бота: /bot 12", "en": "Give the bot's number: /bot 12"},
    "stop_usage": {"ru": "Укажите номер бота: /stop 12", "en": "Give the bot's number: /stop 12"},
    "no_such_bot": {"ru": "Бота #{id} нет.", "en": "There is no bot #{id}."},
    "profit": {
        "ru": "Прибыль сетки: {grid_profit} USDT\nНереализованный результат: {unrealized} USDT\nКомиссии: {fees} USDT\n"
        "Циклов за 24 ч: {cycles_24h}",
        "en": "Grid profit: {grid_profit} USDT\nUnrealized result: {unrealized} USDT\nFees: {fees} USDT\n"
        "Cycles in 24 h: {cycles_24h}",
    },
    "stop_confirm": {
        "ru": "Остановить бота #{id} {name} ({symbol})? Все его ордера будут отменены.",
        "en": "Stop bot #{id} {name} ({symbol})? All its orders will be cancelled.",
    },
    "stop_yes": {"ru": "Да, остановить", "en": "Yes, stop it"},
    "stop_no": {"ru": "Отмена", "en": "Cancel"},
    "stop_done": {
        "ru": "Бот #{id} останавливается: ордера отменяются.",
        "en": "Bot #{id} is stopping: its orders are being cancelled.",
    },
    "stop_cancelled": {"ru": "Бот #{id} продолжает работать.", "en": "Bot #{id} keeps running."},
    "stop_not_running": {"ru": "Бот #{id} не запущен.", "en": "Bot #{id} is not running."},
    "support_start": {
        "ru": "Опишите вопрос одним сообщением — оно станет обращением в поддержку. Ответ придёт сюда и в приложение.",
        "en": "Describe your question in one message: it becomes a support ticket. The answer comes here and in the app.",
    },
    "support_created": {
        "ru": "Обращение #{id} создано. Всё, что вы напишете дальше, попадёт в него. /done — закончить.",
        "en": "Ticket #{id} is open. Everything you write next goes into it. /done to finish.",
    },
    "support_added": {"ru": "Добавлено в обращение #{id}.", "en": "Added to ticket #{id}."},
    "support_done": {"ru": "Готово. Ответ поддержки придёт сюда.", "en": "Done. Support's answer will come here."},
    "support_unavailable": {
        "ru": "Поддержка через Telegram пока недоступна. Напишите нам из приложения.",
        "en": "Support through Telegram is not available yet. Write to us from the app.",
    },
    "support_reply": {"ru": "Поддержка, обращение #{id}:\n{body}", "en": "Support, ticket #{id}:\n{body}"},
    "bot_error": {"ru": "⚠️ Бот #{id} {name}: {message}", "en": "⚠️ Bot #{id} {name}: {message}"},
    "how_to_fix": {"ru": "Как исправить: {url}", "en": "How to fix: {url}"},
    "plans": {"ru": "Оплата звёздами Telegram, период целиком:", "en": "Pay with Telegram Stars, one full period:"},
    "plan_button": {"ru": "{name} — {stars} ⭐", "en": "{name} — {stars} ⭐"},
    "no_plans": {"ru": "Сейчас нечего оплатить звёздами.", "en": "Nothing to pay with Stars right now."},
    "upgrade_in_app": {
        "ru": "У вас действует другой платный тариф: перейти на этот можно в приложении (с перерасчётом).",
        "en": "You are on another paid plan: switch in the app (the price is prorated there).",
    },
    "paid": {
        "ru": "Оплата получена: тариф «{plan}» активен до {until}.",
        "en": "Payment received: the {plan} plan is active until {until}.",
    },
    "paid_pending": {"ru": "Оплата получена, обрабатываем.", "en": "Payment received, processing."},
    "unknown": {
        "ru": "Не понял. Команды: /status /bots /bot N /profit /stop N /plans /support",
        "en": "I did not understand. Commands: /status /bots /bot N /profit /stop N /plans /support",
    },
}

STATUS_NAMES = {
    "draft": {"ru": "черновик", "en": "draft"},
    "starting": {"ru": "запускается", "en": "starting"},
    "running": {"ru": "работает", "en": "running"},
    "stopping": {"ru": "останавливается", "en": "stopping"},
    "stopped": {"ru": "остановлен", "en": "stopped"},
    "error": {"ru": "ошибка", "en": "error"},
}


def lang_of(code: str | None) -> str:
    return "en" if (code or "").lower().startswith("en") else "ru"


def t(key: str, language: str | None, **params) -> str:
    return TEXTS[key][lang_of(language)].format(**params)


def status_name(status: str, language: str) -> str:
    return STATUS_NAMES.get(status, {}).get(lang_of(language), status)
