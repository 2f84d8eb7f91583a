"""The candles shipped with the simulator are exactly the published data set."""

import gzip
import hashlib

import pytest

from exchanges.simulator import feed

PUBLISHED_SHA256 = {
    "binance_spot_BTCUSDT_1m_2021-04-20_2021-05-20.csv": "2c2ed95d2f4e179d036223d14f436911dd22e7798be5a950a2927dc0dba68006",
    "binance_spot_ETHUSDT_1m_2021-04-20_2021-05-20.csv": "036c36372f6c0c6e4e3d38e6a3aa07fb90755aeef88bc5187a437d94dd8d9c99",
    "ftx_BTC-PERP_1m_2021-12-31_2022-02-01.csv": "3f60bafa3394da9d73e5996043b4bb0dcef248b4d01b2eabda75a4e82c8b26c7",
    "coinbase_LTCUSD_1m_2018-04-04_2018-04-06.csv": "b920fda25ee4eff61c75a4d58cb5d36066857345ad28fe3b587e8a8fde9c1899",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_SHA256))
def test_packaged_candles_match_the_published_hashes(name):
    packaged = feed.PACKAGED_DATA / f"{name}.gz"
    assert hashlib.sha256(gzip.decompress(packaged.read_bytes())).hexdigest() == PUBLISHED_SHA256[name]


def test_default_replay_reads_the_packaged_btc_day_of_the_crash():
    candles = feed.load_candles(str(feed.default_csv("BTCUSDT")))
    assert len(candles) == 42915
    assert min(c.low for c in candles) == 30000  # 19 May 2021, 13:10 UTC
