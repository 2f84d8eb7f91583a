"""Run both fake providers: python -m billing.fakes --yookassa-port 8770 --cryptopay-port 8771
--webhook-base http://127.0.0.1:8000 (credentials default to the development settings')."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from billing.fakes.cryptopay import FakeCryptoPay
from billing.fakes.yookassa import FakeYooKassa


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--yookassa-port", type=int, default=8770)
    parser.add_argument("--cryptopay-port", type=int, default=8771)
    parser.add_argument("--webhook-base", default="http://127.0.0.1:8000")
    parser.add_argument("--shop-id", default=os.environ.get("SETKA_YOOKASSA_SHOP_ID", "100500"))
    parser.add_argument("--secret-key", default=os.environ.get("SETKA_YOOKASSA_SECRET_KEY", "test_setka_fake_secret"))
    parser.add_argument(
        "--cryptopay-token", default=os.environ.get("SETKA_CRYPTOPAY_TOKEN", "1234:AAsetkaFakeCryptoPayToken")
    )
    args = parser.parse_args()
    base = args.webhook_base.rstrip("/")
    yoo = FakeYooKassa(
        shop_id=args.shop_id,
        secret_key=args.secret_key,
        webhook_url=f"{base}/api/billing/webhooks/yookassa/",
        port=args.yookassa_port,
    ).start()
    crypto = FakeCryptoPay(
        token=args.cryptopay_token, webhook_url=f"{base}/api/billing/webhooks/cryptopay/", port=args.cryptopay_port
    ).start()
    print(f"fake YooKassa on {yoo.url}/v3, fake Crypto Pay on {crypto.url}/api", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    yoo.stop()
    crypto.stop()


if __name__ == "__main__":
    main()
