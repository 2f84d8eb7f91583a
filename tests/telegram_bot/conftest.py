"""The fake Bot API in a thread of the test process, and helpers to talk to it as a user."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import requests
from aiohttp import web

from telegram_bot.fakes.botapi import FakeBotApi
from tests.stack import free_port

TOKEN = "424242:TEST-token_telegram"


class FakeTelegram:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = FakeBotApi(default_username="setka_test_bot")
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(self.api.app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._runner = runner
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def start(self):
        self.thread.start()
        self._ready.wait(10)
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    # -- the user's side ---------------------------------------------------------------------
    def control(self, action: str, **body):
        resp = requests.post(f"{self.url}/_control/{TOKEN}/{action}", json=body, timeout=15)
        resp.raise_for_status()
        return resp.json()

    def sent(self, chat_id=None) -> list[dict]:
        params = {"chat_id": chat_id} if chat_id is not None else {}
        return requests.get(f"{self.url}/_control/{TOKEN}/sent", params=params, timeout=5).json()

    def wait_sent(self, chat_id, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent(chat_id)
            if len(sent) >= count:
                return sent
            time.sleep(0.05)
        raise AssertionError(f"chat {chat_id}: expected {count} messages, got {self.sent(chat_id)}")

    def say(self, user_id: int, text: str, *, language_code: str = "ru", wait: bool = True) -> dict | None:
        """Write to the bot as the user; return the bot's answer (bot-error notices that may
        arrive in between are not answers and are skipped)."""
        before = len(self.sent(user_id))
        self.control("message", user_id=user_id, text=text, language_code=language_code)
        if not wait:
            return None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answers = [m for m in self.sent(user_id)[before:] if not m.get("text", "").startswith("⚠️")]
            if answers:
                return answers[0]
            time.sleep(0.05)
        raise AssertionError(f"chat {user_id}: no answer to {text!r}: {self.sent(user_id)[before:]}")

    def wait_for(self, chat_id, predicate, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.sent(chat_id) if predicate(m)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"chat {chat_id}: no such message in {self.sent(chat_id)}")


@pytest.fixture(scope="module")
def fake_telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()
