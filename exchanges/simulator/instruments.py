"""Instrument rules of the simulated symbols (values as Bybit publishes them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

D = Decimal


@dataclass(frozen=True)
class Instrument:
    category: str  # "spot" | "linear"
    symbol: str
    base_coin: str
    quote_coin: str
    tick_size: Decimal
    qty_step: Decimal  # spot: basePrecision, linear: qtyStep
    min_qty: Decimal
    max_qty: Decimal
    min_value: Decimal  # spot: minOrderAmt, linear: minNotionalValue
    max_value: Decimal = D("8000000")
    max_leverage: Decimal = D("1")
    max_market_qty: Decimal = D("0")

    def on_tick(self, price: Decimal) -> bool:
        return price > 0 and (price % self.tick_size) == 0

    def on_step(self, qty: Decimal) -> bool:
        return qty > 0 and (qty % self.qty_step) == 0

    def to_wire(self) -> dict:
        if self.category == "spot":
            return {
                "symbol": self.symbol,
                "baseCoin": self.base_coin,
                "quoteCoin": self.quote_coin,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "utaOnly",
                "stTag": "0",
                "symbolType": "",
                "lotSizeFilter": {
                    "basePrecision": str(self.qty_step),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": str(self.min_qty),
                    "maxOrderQty": str(self.max_qty),
                    "minOrderAmt": str(self.min_value),
                    "maxOrderAmt": str(self.max_value),
                    "maxLimitOrderQty": str(self.max_qty),
                    "maxMarketOrderQty": str(self.max_market_qty),
                    "postOnlyMaxLimitOrderSize": "60000",
                },
                "priceFilter": {"tickSize": str(self.tick_size)},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
            }
        scale = max(0, -int(self.tick_size.as_tuple().exponent))
        return {
            "symbol": self.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": self.base_coin,
            "quoteCoin": self.quote_coin,
            "settleCoin": self.quote_coin,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(scale),
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": f"{self.max_leverage:.2f}",
                "leverageStep": "0.01",
            },
            "priceFilter": {"minPrice": str(self.tick_size), "maxPrice": "1999999.80", "tickSize": str(self.tick_size)},
            "lotSizeFilter": {
                "maxOrderQty": str(self.max_qty),
                "minOrderQty": str(self.min_qty),
                "qtyStep": str(self.qty_step),
                "postOnlyMaxOrderQty": str(self.max_qty),
                "maxMktOrderQty": str(self.max_market_qty),
                "minNotionalValue": str(self.min_value),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
        }


def _spot(symbol, base, tick, step, min_qty, max_qty, max_mkt):
    return Instrument(
        "spot", symbol, base, "USDT", D(tick), D(step), D(min_qty), D(max_qty), D("5"), max_market_qty=D(max_mkt)
    )


def _linear(symbol, base, tick, step, min_qty, max_qty, max_mkt, lev):
    return Instrument(
        "linear",
        symbol,
        base,
        "USDT",
        D(tick),
        D(step),
        D(min_qty),
        D(max_qty),
        D("5"),
        max_value=D("100000000"),
        max_leverage=D(lev),
        max_market_qty=D(max_mkt),
    )


INSTRUMENTS: dict[tuple[str, str], Instrument] = {
    (i.category, i.symbol): i
    for i in (
        _spot("BTCUSDT", "BTC", "0.01", "0.000001", "0.000048", "71.73956243", "4.48372265"),
        _spot("ETHUSDT", "ETH", "0.01", "0.00001", "0.00062", "1229.2336343", "76.8271026"),
        _spot("LTCUSDT", "LTC", "0.01", "0.00001", "0.03", "11000", "1000"),
        _linear("BTCUSDT", "BTC", "0.10", "0.001", "0.001", "1190.000", "500.000", "100"),
        _linear("ETHUSDT", "ETH", "0.01", "0.01", "0.01", "7240.00", "3620.00", "100"),
        _linear("LTCUSDT", "LTC", "0.01", "0.1", "0.1", "70000.0", "35000.0", "50"),
    )
}
SYMBOLS = ("BTCUSDT", "ETHUSDT", "LTCUSDT")
CATEGORIES = ("spot", "linear")


def instrument(category: str, symbol: str) -> Instrument | None:
    return INSTRUMENTS.get((category, symbol))
