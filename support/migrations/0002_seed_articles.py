"""The knowledge base's first articles: one per troubleshooter cause, in Russian and English."""

from django.db import migrations

ARTICLES = [
    (
        "grid-trading-basics",
        "none",
        "Как торгует сеточный бот",
        "Сетка покупает ниже и продаёт выше; сделки идут, только когда цена пересекает линии.",
        "Сеточный бот расставляет ордера на покупку ниже текущей цены и на продажу выше неё, на равных шагах внутри выбранного диапазона. "
        "Когда цена опускается до линии, исполняется покупка, и бот сразу ставит продажу на линию выше. Когда цена поднимается, исполняется продажа "
        "и бот ставит покупку ниже. Прибыль сетки — это разница между соседними линиями за вычетом комиссий.\n\n"
        "Если рынок спокоен и цена стоит между двумя линиями, сделок может не быть часами — это нормально. Частоту сделок задаёт шаг сетки: "
        "больше линий — чаще сделки, но меньше прибыль с каждой.",
        "How a grid bot trades",
        "A grid buys lower and sells higher; it trades only when the price crosses its lines.",
        "A grid bot places buy orders below the current price and sell orders above it, at equal steps inside the range you chose. "
        "When the price falls to a line, a buy fills and the bot at once places a sell one line higher. When the price rises, a sell fills "
        "and the bot places a buy below. The grid's profit is the gap between neighbouring lines minus fees.\n\n"
        "In a quiet market the price may sit between two lines for hours with no trades; that is normal. The step sets how often it trades: "
        "more lines trade more often, but earn less per trade.",
    ),
    (
        "price-out-of-range",
        "price_out_of_range",
        "Цена вышла за диапазон сетки",
        "Если цена выше верхней или ниже нижней границы, бот ждёт её возвращения.",
        "Бот торгует только внутри диапазона, который вы задали. Если цена ушла выше верхней границы, все монеты уже проданы и бот ждёт, "
        "пока цена вернётся. Если ниже нижней — всё куплено, и продажи исполнятся, когда цена поднимется.\n\n"
        "Что делать: подождать, если вы ждёте возврата цены; или остановить бота и создать новый с диапазоном вокруг текущей цены. "
        "Чтобы бот не держал позицию бесконечно, задайте тейк-профит и стоп-лосс.",
        "The price left the grid's range",
        "Above the top or below the bottom of the range, the bot waits for the price to return.",
        "A bot trades only inside the range you set. Above the upper bound everything is sold and the bot waits for the price to come back. "
        "Below the lower bound everything is bought, and the sells fill when the price rises.\n\n"
        "What to do: wait if you expect the price to return, or stop the bot and create a new one with a range around the current price. "
        "Set a take-profit and a stop-loss so the bot never holds a position forever.",
    ),
    (
        "insufficient-balance",
        "insufficient_balance",
        "Недостаточно средств на бирже",
        "Бирже не хватает денег на счёте, чтобы поставить ордера сетки.",
        "Биржа отклоняет ордер, если на торговом счёте меньше денег, чем он требует. Частые причины: средства лежат на другом счёте "
        "(фондовом, а не едином торговом), их заняли ордера другого бота или ручные ордера, или сумма инвестиции больше свободного баланса.\n\n"
        "Что делать: переведите средства на торговый счёт биржи, отмените лишние ордера или уменьшите инвестицию бота и запустите его снова.",
        "Not enough funds on the exchange",
        "The exchange account lacks the money to place the grid's orders.",
        "The exchange refuses an order when the trading account holds less than it needs. Common reasons: the funds sit in another account "
        "(funding rather than the unified trading account), another bot or manual orders hold them, or the investment is larger than the "
        "free balance.\n\nWhat to do: move funds to the exchange's trading account, cancel orders you do not need, or lower the bot's "
        "investment and start it again.",
    ),
    (
        "api-key-problems",
        "key",
        "API-ключ истёк, отозван или без права торговли",
        "Бот работает через ваш API-ключ; без рабочего ключа он не может торговать.",
        "Бот торгует через API-ключ, который вы привязали. Ключ перестаёт работать, если истёк его срок, его удалили или отозвали на бирже, "
        "сменили разрешённые IP-адреса или у него нет права торговли. Тогда бот останавливается, а на странице аккаунта появляется пометка.\n\n"
        "Что делать: создайте на бирже новый ключ с правом торговли (спот и/или деривативы) и без права вывода средств, и привяжите его на "
        "странице «Аккаунты». Мы храним ключи зашифрованными и никогда их не показываем.",
        "API key expired, revoked or without trading",
        "The bot trades through your API key; without a working key it cannot trade.",
        "The bot trades through the API key you bound. A key stops working when it expires, is deleted or revoked on the exchange, its "
        "allowed IPs change, or it has no trading permission. The bot then stops and the account page shows a warning.\n\n"
        "What to do: create a new key on the exchange with trading permission (spot and/or derivatives) and no withdrawals, and bind it on "
        "the Accounts page. Keys are stored encrypted and never shown.",
    ),
    (
        "plan-limits",
        "plan_limit",
        "Лимиты тарифа",
        "Тариф ограничивает число живых ботов, сумму инвестиций и число бирж.",
        "Каждый тариф ограничивает, сколько ботов на реальных деньгах можно держать запущенными, сколько в них вложено и на скольких биржах. "
        "Бумажная торговля бесплатна и не ограничена. Если тариф не оплачен, боты сверх бесплатного тарифа не открывают новые циклы, "
        "но их защитные ордера остаются.\n\nЧто делать: остановите другого бота, уменьшите инвестицию или выберите тариф выше на странице «Тарифы».",
        "Plan limits",
        "Your plan limits the number of live bots, the amount invested and the number of exchanges.",
        "Each plan limits how many live-money bots can run, how much they hold and on how many exchanges. Paper trading is free and "
        "unlimited. When a plan is unpaid, bots beyond the free plan open no new cycles but keep their protective orders.\n\n"
        "What to do: stop another bot, lower the investment, or pick a higher plan on the Pricing page.",
    ),
    (
        "bot-stopped",
        "bot_stopped",
        "Почему бот остановился",
        "Бот останавливается вами, по тейк-профиту или стоп-лоссу, при ошибках ключа или операторами.",
        "Причина остановки видна на странице бота и в его журнале. Бот останавливается, когда вы нажали «Стоп», сработал тейк-профит или "
        "стоп-лосс, биржа перестала принимать ключ, ошибки повторялись много раз подряд или операторы приостановили торговлю. "
        "При остановке бот отменяет свои ордера.\n\nЧто делать: устраните причину и запустите бота снова — сетка будет построена от текущей цены. "
        "Если бот ждёт цену запуска, он начнёт торговать сам, когда цена её достигнет.",
        "Why a bot stopped",
        "A bot stops when you stop it, at take-profit or stop-loss, on key errors, or by the operators.",
        "The reason is shown on the bot's page and in its log. A bot stops when you press Stop, when its take-profit or stop-loss is hit, "
        "when the exchange no longer accepts the key, after many errors in a row, or when the operators halt trading. On stop the bot "
        "cancels its orders.\n\nWhat to do: fix the cause and start the bot again; the grid is built from the current price. A bot "
        "waiting for its trigger price starts trading by itself when the price reaches it.",
    ),
    (
        "order-minimum",
        "below_minimum",
        "Ордер меньше минимума биржи",
        "У каждой пары есть минимальная сумма и количество ордера.",
        "Биржи не принимают слишком маленькие ордера: у каждой пары есть минимальное количество монет и минимальная сумма ордера "
        "(например, 5 USDT). Сумма одного ордера сетки — это инвестиция, делённая на число линий.\n\n"
        "Что делать: уменьшите число линий сетки или увеличьте инвестицию, чтобы каждый ордер был выше минимума.",
        "Orders below the exchange's minimum",
        "Every pair has a minimum order amount and quantity.",
        "Exchanges refuse orders that are too small: each pair has a minimum quantity and a minimum order value (for example 5 USDT). "
        "One grid order is about the investment divided by the number of lines.\n\n"
        "What to do: use fewer lines or invest more so every order is above the minimum.",
    ),
    (
        "exchange-errors",
        "exchange_errors",
        "Ошибки биржи",
        "Биржа может временно не отвечать или отклонять ордера.",
        "Иногда биржа не отвечает, ограничивает частоту запросов или отклоняет ордер (например, цена слишком далеко от рынка). "
        "Бот повторяет временные ошибки сам и перезапускается после сбоев; в журнале бота видно, что произошло.\n\n"
        "Что делать: если ошибка повторяется больше часа, откройте обращение со страницы бота — мы увидим диагностику.",
        "Exchange errors",
        "The exchange may not answer for a while or refuse orders.",
        "Sometimes the exchange does not answer, limits the request rate, or refuses an order (for example, a price too far from the market). "
        "The bot retries temporary errors by itself and restarts after failures; its log shows what happened.\n\n"
        "What to do: if an error keeps coming back for more than an hour, open a ticket from the bot's page; we see the diagnostics.",
    ),
    (
        "trading-halt",
        "trading_halt",
        "Торговля приостановлена",
        "Операторы могут остановить всю торговлю при сбое биржи.",
        "При серьёзном сбое на бирже или у нас операторы включают общую остановку: все боты останавливаются, их ордера отменяются, "
        "новые запуски недоступны. Мы сообщаем об этом в приложении и в официальных каналах.\n\n"
        "Что делать: дождаться сообщения о возобновлении и запустить ботов снова.",
        "Trading is halted",
        "The operators may halt all trading during an exchange incident.",
        "During a serious incident at an exchange or on our side, the operators switch on a general halt: all bots stop, their orders are "
        "cancelled and no bot can start. We announce it in the app and our official channels.\n\n"
        "What to do: wait for the all-clear and start your bots again.",
    ),
]


def seed(apps, schema_editor):
    Article = apps.get_model("support", "Article")
    for slug, cause, ru_t, ru_s, ru_b, en_t, en_s, en_b in ARTICLES:
        for lang, title, summary, body in (("ru", ru_t, ru_s, ru_b), ("en", en_t, en_s, en_b)):
            Article.objects.update_or_create(
                slug=slug, language=lang, defaults={"title": title, "summary": summary, "body": body, "cause": cause}
            )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
