"""Real 1-minute candles for tests: the copies shipped with the simulator
(exchanges/simulator/data, byte-for-byte the project's shared data set; see its SOURCES.md)."""

from exchanges.simulator.feed import data_file, open_text

BTCUSDT_2021 = data_file("binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv")
ETHUSDT_2021 = data_file("binance_spot_ETHUSDT_1m_2021-04-20_2021-05-20.csv")
BTC_PERP_2022 = data_file("ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv")

__all__ = ["BTCUSDT_2021", "ETHUSDT_2021", "BTC_PERP_2022", "data_file", "open_text"]
