"""Each screener factor said in words a non-trader understands, in Russian and English."""

FACTORS = {
    "quote_volume_24h": {
        "en": "Money traded in the last 24 hours (in the quote coin). More volume: orders fill at their price.",
        "ru": "Оборот за последние 24 часа (в валюте котировки). Чем больше, тем надёжнее ордера исполняются по своей цене.",
    },
    "spread_bps": {
        "en": "Gap between the best buy and sell price on the venue's ticker, in basis points (0.01 %). A grid step should be many times wider.",
        "ru": "Разница между лучшей ценой покупки и продажи в тикере биржи, в базисных пунктах (0,01 %). Шаг сетки должен быть во много раз шире.",
    },
    "atr_percent": {
        "en": "Average hourly swing (ATR) as % of the price: how far the price usually moves in an hour.",
        "ru": "Средний часовой размах (ATR) в % от цены: насколько цена обычно ходит за час.",
    },
    "realized_vol_percent": {
        "en": "Annualised volatility of 1-minute moves. Grids need movement, but not a one-way run.",
        "ru": "Годовая волатильность минутных движений. Сетке нужно движение, но не в одну сторону.",
    },
    "efficiency_ratio": {
        "en": "Net move divided by the distance travelled (0..1). Near 0: the price goes back and forth, good for a grid.",
        "ru": "Итоговое смещение, делённое на пройденный путь (0..1). Близко к 0 — цена ходит туда-обратно, это хорошо для сетки.",
    },
    "choppiness": {
        "en": "Choppiness index (0..100). Above ~60: sideways market; below ~40: trending.",
        "ru": "Индекс «пилы» (0..100). Выше ~60 — боковик, ниже ~40 — тренд.",
    },
    "variance_ratio": {
        "en": "Variance ratio: below 1 the price tends to come back (good for grids), about 1 random, above 1 trending.",
        "ru": "Отношение дисперсий: меньше 1 — цена склонна возвращаться (хорошо для сетки), около 1 — случайно, больше 1 — тренд.",
    },
    "half_life_hours": {
        "en": "How many hours a deviation from the average takes to halve. Shorter: more round trips.",
        "ru": "За сколько часов отклонение от среднего уменьшается вдвое. Чем короче, тем больше оборотов сетки.",
    },
    "range_score": {
        "en": "Range-bound score 0..100: the four factors above combined equally. Higher is better for a grid.",
        "ru": "Оценка «боковика» 0..100: четыре фактора выше с равным весом. Чем выше, тем лучше для сетки.",
    },
    "round_trips_per_day": {
        "en": "Completed buy-then-sell cycles per day the suggested grid made on this market's last three days, each earning more than its fees.",
        "ru": "Сколько полных циклов «купил-продал» в день сделала предложенная сетка за последние три дня этого рынка; каждый приносит больше комиссий.",
    },
    "to_range_edges": {
        "en": "Distance from the price to the high and low of the last three days, in %. Close to an edge: a breakout may leave the grid.",
        "ru": "Расстояние от цены до максимума и минимума последних трёх дней, в %. Близко к краю — пробой может вывести цену из сетки.",
    },
    "funding_rate": {
        "en": "Perpetual futures only: the current funding rate from the venue, paid every settlement by longs to shorts when positive (shorts to longs when negative). A long grid pays it on its position.",
        "ru": "Только бессрочные фьючерсы: текущая ставка финансирования биржи; при положительной лонги платят шортам на каждом расчёте, при отрицательной — наоборот. Лонговая сетка платит её со своей позиции.",
    },
}
