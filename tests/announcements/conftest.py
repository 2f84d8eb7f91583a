from __future__ import annotations

import asyncio
import threading

import pytest
import requests
from aiohttp import web
from django.test import override_settings

from announcements.fakes.vkapi import FakeVkApi
from tests.stack import free_port
from tests.telegram_bot.conftest import TOKEN, fake_telegram  # noqa: F401 - the fixture

GROUP_ID, VK_TOKEN = 4242, "vk-test-token"
CHANNEL = -1001234567890


class FakeVk:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = FakeVkApi()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    def start(self):
        def run():
            asyncio.set_event_loop(self.loop)
            runner = web.AppRunner(self.api.app)
            self.loop.run_until_complete(runner.setup())
            self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            self._ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        self._ready.wait(10)
        return self

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)

    def control(self, action, **body):
        return requests.post(f"{self.url}/_control/{action}", json=body, timeout=15).json()

    def posts(self):
        return requests.get(f"{self.url}/_control/posts", params={"owner_id": -GROUP_ID}, timeout=5).json()


@pytest.fixture(scope="module")
def fake_vk():
    fake = FakeVk().start()
    fake.control("group", group_id=GROUP_ID, token=VK_TOKEN, confirmation="conf-123", secret="vk-secret")
    yield fake
    fake.stop()


@pytest.fixture
def outlets(fake_telegram, fake_vk):  # noqa: F811
    fake_telegram.control("channel", chat_id=CHANNEL, username="setka_news_test", title="Setka news")
    with override_settings(
        SETKA_TELEGRAM_API_URL=fake_telegram.url,
        SETKA_TELEGRAM_BOT_TOKEN=TOKEN,
        SETKA_TELEGRAM_CHANNEL="@setka_news_test",
        SETKA_VK_API_URL=fake_vk.url,
        SETKA_VK_TOKEN=VK_TOKEN,
        SETKA_VK_GROUP_ID=GROUP_ID,
        SETKA_VK_CONFIRMATION="conf-123",
        SETKA_VK_CALLBACK_SECRET="vk-secret",
    ):
        yield fake_telegram, fake_vk
