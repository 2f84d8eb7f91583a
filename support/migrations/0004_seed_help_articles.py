"""Knowledge-base articles for every stop reason and exchange error that the first seed did not
cover (config.help maps each code to its article), in Russian and English."""

from django.db import migrations

ARTICLES = [
    (
        "launch-failed",
        "launch_failed",
        "Бот не смог выставить сетку",
        "Биржа отклонила ордера сетки при запуске: чаще всего из-за цены, баланса или минимума ордера.",
        "При запуске бот читает текущую цену и выставляет все ордера сетки. Если биржа отклоняет их, бот останавливается, "
        "ничего не оставив на бирже.\n\n"
        "Частые причины: цена ушла за границы диапазона, на счёте не хватает средств, один ордер сетки меньше минимума биржи, "
        "у ключа нет права торговли. Что делать: откройте журнал бота — в строке «Не удалось запустить» указана ошибка биржи; "
        "проверьте диапазон и сумму инвестиции в «Почему бот не торгует?» и запустите бота снова.",
        "The bot could not place its grid",
        "The exchange refused the grid's orders at launch: usually the price, the balance or the order minimum.",
        "At launch the bot reads the current price and places every order of the grid. If the exchange refuses them, the bot stops "
        "and leaves nothing on the exchange.\n\n"
        "Common causes: the price left the range, the account lacks funds, one grid order is below the exchange's minimum, the key "
        "cannot trade. What to do: open the bot's log (the \"Cannot launch\" line names the exchange's error), check the range and "
        "the investment with \"Why isn't my bot trading?\" and start the bot again.",
    ),
    (
        "take-profit-stop-loss",
        "take_profit",
        "Тейк-профит и стоп-лосс",
        "Бот останавливается сам, когда общий результат достигает заданной прибыли или убытка.",
        "Тейк-профит останавливает бота, когда общий результат (сетка плюс изменение стоимости позиции) достигает заданной прибыли; "
        "стоп-лосс — когда убыток достигает заданного предела. Ордера бота отменяются; позиция закрывается или остаётся, "
        "как выбрано в настройках.\n\n"
        "Это не ошибка. Чтобы торговать дальше, создайте бота заново с диапазоном вокруг текущей цены или запустите этого снова "
        "(перезапуск строит сетку от текущей цены).",
        "Take-profit and stop-loss",
        "The bot stops by itself when its total result reaches the profit or loss you set.",
        "Take-profit stops the bot when its total result (grid profit plus the change in the position's value) reaches the profit "
        "you set; stop-loss when the loss reaches your limit. The bot's orders are cancelled; the position is closed or kept, "
        "as chosen in its settings.\n\n"
        "This is not an error. To trade on, recreate the bot with a range around the current price, or start this one again "
        "(a restart builds the grid from the current price).",
    ),
    (
        "liquidation",
        "liquidated",
        "Позиция ликвидирована",
        "Биржа закрыла фьючерсную позицию бота: маржи не хватило при движении цены против неё.",
        "На фьючерсах биржа принудительно закрывает позицию, когда убыток съедает маржу. Бот останавливается сразу: торговать "
        "после ликвидации опасно.\n\n"
        "Что делать: проверьте на бирже, что позиция закрыта и ордеров не осталось. Для нового бота выберите меньшее плечо, "
        "более широкий диапазон и стоп-лосс, который сработает раньше ликвидации.",
        "The position was liquidated",
        "The exchange closed the bot's futures position: the margin ran out as the price moved against it.",
        "On futures the exchange force-closes a position when the loss eats its margin. The bot stops at once: trading on after a "
        "liquidation is unsafe.\n\n"
        "What to do: check on the exchange that the position is closed and no orders are left. For a new bot choose lower "
        "leverage, a wider range and a stop-loss that triggers before liquidation.",
    ),
    (
        "too-many-orders",
        "TooManyOpenOrders",
        "Слишком много открытых ордеров",
        "У биржи есть предел открытых ордеров на счёт или на пару; сетка в него не помещается.",
        "Каждая линия сетки — открытый ордер. Биржи ограничивают число открытых ордеров на счёт и на торговую пару; "
        "если вместе с другими ботами и вашими ручными ордерами сетка превышает предел, биржа отклоняет новые ордера.\n\n"
        "Что делать: уменьшите число линий сетки, остановите лишнего бота на той же паре или отмените ненужные ордера на бирже.",
        "Too many open orders",
        "The exchange limits open orders per account or per pair, and the grid does not fit.",
        "Every grid line is an open order. Exchanges limit the number of open orders per account and per trading pair; "
        "when the grid, other bots and your manual orders together exceed it, the exchange refuses new orders.\n\n"
        "What to do: use fewer grid lines, stop another bot on the same pair, or cancel orders you do not need on the exchange.",
    ),
    (
        "trading-access",
        "access_revoked",
        "Доступ к торговле",
        "Торговля включается кодом доступа; если доступ отозван, боты останавливаются.",
        "Пока Сетка открыта не для всех, запускать ботов можно после ввода кода доступа в профиле. Если доступ отозван "
        "(например, истёк срок или нарушены правила), все ваши боты останавливаются и их ордера отменяются.\n\n"
        "Что делать: откройте обращение в поддержку — мы объясним причину и, если это ошибка, вернём доступ.",
        "Trading access",
        "Trading is enabled by an access code; when access is revoked, bots stop.",
        "While Setka is not open to everyone, bots can run once you enter an access code in your profile. If access is revoked "
        "(it expired, or the rules were broken), all your bots stop and their orders are cancelled.\n\n"
        "What to do: open a support ticket: we explain why and, if it was a mistake, give access back.",
    ),
    (
        "pools-following",
        "pool_paused",
        "Бот пула остановился",
        "Бот, повторяющий стратегию пула, следует решениям управляющего.",
        "Участник пула торгует на своём счёте копией стратегии управляющего. Когда управляющий останавливает стратегию, меняет её "
        "или вы выходите из пула, ваш бот останавливается и отменяет свои ордера; средства остаются на вашем счёте.\n\n"
        "Что делать: посмотрите новость пула на его странице. Если стратегия изменилась, бот пула перезапустится с новыми "
        "настройками; если вы вышли — создайте своего бота.",
        "A pool's bot stopped",
        "A bot that follows a pool's strategy follows its manager's decisions.",
        "A pool member trades a copy of the manager's strategy on their own account. When the manager stops or changes the "
        "strategy, or you leave the pool, your bot stops and cancels its orders; the funds stay in your account.\n\n"
        "What to do: read the pool's page. If the strategy changed, the pool's bot restarts with the new settings; if you left, "
        "create a bot of your own.",
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
    dependencies = [("support", "0003_vk_contacts")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
