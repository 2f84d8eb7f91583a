"""Every event the platform tells a user about, in one place: whether it is urgent (not held
by quiet hours), which channels it uses when the user has not chosen, where it links in the
app, and its title and text in Russian and English (str.format with the notify() params)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CHANNELS = ("inapp", "email", "telegram")


@dataclass(frozen=True)
class Event:
    texts: dict[str, tuple[str, str]]
    url: str = ""
    urgent: bool = False
    defaults: dict[str, bool] = field(default_factory=lambda: {"inapp": True, "email": True, "telegram": True})


QUIET = {"inapp": True, "email": False, "telegram": True}

EVENTS: dict[str, Event] = {
    "bot_started": Event(
        texts={
            "ru": ("Бот «{bot_name}» запущен", "Бот «{bot_name}» ({symbol}) начал торговать."),
            "en": ('Bot "{bot_name}" started', 'Bot "{bot_name}" ({symbol}) started trading.'),
        },
        url="/bots/{bot_id}",
        defaults=QUIET,
    ),
    "bot_stopped": Event(
        texts={
            "ru": ("Бот «{bot_name}» остановлен", "Бот «{bot_name}» ({symbol}) остановлен. Причина: {reason}."),
            "en": ('Bot "{bot_name}" stopped', 'Bot "{bot_name}" ({symbol}) stopped. Reason: {reason}.'),
        },
        url="/bots/{bot_id}",
    ),
    "bot_error": Event(
        texts={
            "ru": ("Ошибка бота «{bot_name}»", "Бот «{bot_name}» ({symbol}): {error}"),
            "en": ('Bot "{bot_name}" hit an error', 'Bot "{bot_name}" ({symbol}): {error}'),
        },
        url="/bots/{bot_id}",
        urgent=True,
    ),
    "bot_take_profit": Event(
        texts={
            "ru": ("Тейк-профит: «{bot_name}»", "Бот «{bot_name}» ({symbol}) достиг тейк-профита по цене {price}."),
            "en": ('Take-profit: "{bot_name}"', 'Bot "{bot_name}" ({symbol}) reached its take-profit at {price}.'),
        },
        url="/bots/{bot_id}",
    ),
    "bot_stop_loss": Event(
        texts={
            "ru": ("Стоп-лосс: «{bot_name}»", "Бот «{bot_name}» ({symbol}) остановлен по стоп-лоссу по цене {price}."),
            "en": ('Stop-loss: "{bot_name}"', 'Bot "{bot_name}" ({symbol}) stopped at its stop-loss at {price}.'),
        },
        url="/bots/{bot_id}",
        urgent=True,
    ),
    "daily_digest": Event(
        texts={
            "ru": (
                "Итоги дня",
                "Работает ботов: {running}. Сделок за сутки: {trades}. Прибыль сетки за сутки: {profit} USDT.",
            ),
            "en": (
                "Your day",
                "Bots running: {running}. Trades in 24 h: {trades}. Grid profit in 24 h: {profit} USDT.",
            ),
        },
        url="/bots",
        defaults={"inapp": True, "email": False, "telegram": True},
    ),
    "key_expiring": Event(
        texts={
            "ru": (
                "API-ключ «{account}» скоро истечёт",
                "Ключ биржевого аккаунта «{account}» истекает {expires}. Создайте новый ключ на бирже и привяжите "
                "его заново, иначе боты на этом аккаунте остановятся.",
            ),
            "en": (
                'API key "{account}" expires soon',
                'The key of exchange account "{account}" expires on {expires}. Create a new key on the exchange '
                "and bind it, or the bots on this account will stop.",
            ),
        },
        url="/accounts",
    ),
    "billing_activated": Event(
        texts={
            "ru": ("Тариф «{plan}» активен", "Оплата получена. Тариф «{plan}» действует до {until}."),
            "en": ("Your {plan} plan is active", "Payment received. Your {plan} plan is active until {until}."),
        },
        url="/billing",
    ),
    "billing_past_due": Event(
        texts={
            "ru": (
                "Оплатите тариф «{plan}»",
                "Срок тарифа «{plan}» закончился {until}. Продлите его на странице «Оплата»: боты работают как прежде.",
            ),
            "en": (
                "Please renew your {plan} plan",
                "Your {plan} plan ended on {until}. Renew it on the Billing page; your bots keep running as before.",
            ),
        },
        url="/billing",
    ),
    "billing_grace": Event(
        texts={
            "ru": (
                "Льготный период до {until}",
                "Тариф «{plan}» не оплачен. До {until} всё работает как прежде; затем боты сверх бесплатного "
                "тарифа перестанут открывать новые циклы (защитные ордера останутся).",
            ),
            "en": (
                "Grace period until {until}",
                "Your {plan} plan is unpaid. Everything works until {until}; then bots beyond the free plan stop "
                "opening new cycles (their protective orders stay).",
            ),
        },
        url="/billing",
    ),
    "billing_expired": Event(
        texts={
            "ru": (
                "Тариф «{plan}» закончился",
                "Тариф закончился. Боты сверх бесплатного тарифа ({bots}) больше не открывают новые циклы; "
                "их защитные ордера и позиции не тронуты. Продлите тариф, чтобы они продолжили работу.",
            ),
            "en": (
                "Your {plan} plan has ended",
                "Your plan has ended. Bots beyond the free plan ({bots}) no longer open new cycles; their "
                "protective orders and positions are untouched. Renew to let them trade on.",
            ),
        },
        url="/billing",
    ),
    "billing_revoked": Event(
        texts={
            "ru": ("Платёж возвращён", "Платёж {amount} {currency} возвращён; тариф «{plan}» отозван."),
            "en": ("Payment refunded", "Payment of {amount} {currency} was refunded; the {plan} plan was withdrawn."),
        },
        url="/billing",
    ),
    "pool_follow_paused": Event(
        texts={
            "ru": (
                "Пул «{pool_name}»: бот не запущен",
                "Ваш бот в пуле «{pool_name}» не запущен: {reason} Увеличьте сумму или выйдите из пула.",
            ),
            "en": (
                'Pool "{pool_name}": your bot was not started',
                'Your bot in the pool "{pool_name}" was not started: {reason} Add to your amount or leave the pool.',
            ),
        },
        url="/pools/{pool_id}",
        urgent=True,
    ),
    "pool_suspended": Event(
        texts={
            "ru": (
                "Пул «{pool_name}» приостановлен",
                "Пул «{pool_name}» приостановлен операторами: ваш бот в нём останавливается, монеты остаются "
                "на вашем аккаунте. Ваша доля сохраняется; выйти из пула можно в любой момент.",
            ),
            "en": (
                'Pool "{pool_name}" is suspended',
                'The operators suspended the pool "{pool_name}": your bot in it stops and your coins stay on '
                "your account. Your place is kept; you may leave the pool at any time.",
            ),
        },
        url="/pools/{pool_id}",
        urgent=True,
    ),
    "billing_renewal_due": Event(
        texts={
            "ru": (
                "Тариф «{plan}» заканчивается {until}",
                "Тариф «{plan}» действует до {until}. Оплатите следующий период на странице «Оплата»: он "
                "добавится к концу текущего, ни один оплаченный день не пропадёт.",
            ),
            "en": (
                "Your {plan} plan ends on {until}",
                "Your {plan} plan is active until {until}. Pay for the next period on the Billing page: it is "
                "added after the current one, so no paid day is lost.",
            ),
        },
        url="/billing",
    ),
    "billing_partial_refund": Event(
        texts={
            "ru": (
                "Частичный возврат {amount} {currency}",
                "Вам вернули {amount} {currency}. Тариф «{plan}» теперь действует до {until}.",
            ),
            "en": (
                "Partial refund of {amount} {currency}",
                "{amount} {currency} was refunded to you. Your {plan} plan is now active until {until}.",
            ),
        },
        url="/billing",
    ),
    "bot_market_trending": Event(
        texts={
            "ru": (
                "Рынок «{bot_name}» ушёл в тренд",
                "Бот «{bot_name}» ({symbol}): рынок перешёл от боковика к тренду — цена прошла {move} % за {hours} ч "
                "почти без откатов (коэффициент эффективности {er}). Сетка зарабатывает, когда цена ходит "
                "туда-обратно; в тренде цена уходит из диапазона, и у бота остаются только монеты или только "
                "деньги. Подумайте о расширении диапазона, стоп-лоссе или остановке бота.",
            ),
            "en": (
                'The market of "{bot_name}" turned into a trend',
                'Bot "{bot_name}" ({symbol}): the market turned from sideways to a trend — the price moved {move} % '
                "in {hours} h with few pullbacks (efficiency ratio {er}). A grid earns when the price goes back and "
                "forth; in a trend the price walks out of the range and the bot ends up holding only coins or only "
                "cash. Consider widening the range, a stop-loss, or stopping the bot.",
            ),
        },
        url="/bots/{bot_id}",
    ),
    "ticket_reply": Event(
        texts={
            "ru": ("Ответ поддержки: «{subject}»", "{body}"),
            "en": ('Support replied: "{subject}"', "{body}"),
        },
        url="/support/{ticket_id}",
    ),
}


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return ""


HELP_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def help_path(params: dict) -> str:
    """The app path of the knowledge-base article that tells how to fix what the notification
    is about (params["help_article"], a slug the caller chose from config.help), or ""."""
    slug = (params or {}).get("help_article")
    return f"/help/{slug}" if isinstance(slug, str) and HELP_SLUG.match(slug) else ""


def event_render(*, event: str, params: dict, language: str) -> tuple[str, str, str]:
    """(title, body, url) of `event` in `language` (Russian when the language is unknown)."""
    spec = EVENTS[event]
    title, body = spec.texts.get(language) or spec.texts["ru"]
    values = _Params({k: "" if v is None else v for k, v in params.items()})
    return title.format_map(values), body.format_map(values), spec.url.format_map(values)
