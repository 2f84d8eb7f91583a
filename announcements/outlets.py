"""The outlets an announcement goes to. Telegram: the channel, through the same aiogram client as
the bot (the fake Bot API in development). VK: the community wall through the `vk-api` library,
whose requests are sent to SETKA_VK_API_URL (the fake VK API in development): vk-api builds
https://api.vk.ru/method/<name>, and the session's adapter rewrites exactly that prefix before
anything is resolved; every other address is refused."""

from __future__ import annotations

import requests
import vk_api
from django.conf import settings
from requests.adapters import HTTPAdapter

from telegram_bot.sending import SendFailed, send_to_chat

VK_PREFIX = "https://api.vk.ru/method/"


class OutletError(Exception):
    """The outlet refused or failed; the publication is retried on the next run."""


class _VkAddress(HTTPAdapter):
    def send(self, request, **kwargs):
        if not request.url.startswith(VK_PREFIX):
            raise requests.ConnectionError(f"refused: {request.url.split('?')[0]} is not VK's API")
        request.url = settings.SETKA_VK_API_URL.rstrip("/") + "/method/" + request.url[len(VK_PREFIX) :]
        return super().send(request, **kwargs)


def vk_session() -> requests.Session:
    session = requests.Session()
    adapter = _VkAddress()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def vk_wall_post(*, message: str) -> str:
    vk = vk_api.VkApi(token=settings.SETKA_VK_TOKEN, api_version=settings.SETKA_VK_API_VERSION, session=vk_session())
    try:
        answer = vk.method(
            "wall.post", {"owner_id": -int(settings.SETKA_VK_GROUP_ID), "from_group": 1, "message": message}
        )
    except (vk_api.VkApiError, requests.RequestException) as exc:
        raise OutletError(f"VK: {exc}"[:300]) from exc
    return str(answer["post_id"])


def vk_message_send(*, peer_id: int, message: str, random_id: int) -> int:
    """The community writes to a user (a staff reply to a ticket opened from VK). `random_id`
    makes VK send it once however often it is retried; returns VK's message id."""
    vk = vk_api.VkApi(token=settings.SETKA_VK_TOKEN, api_version=settings.SETKA_VK_API_VERSION, session=vk_session())
    try:
        answer = vk.method("messages.send", {"peer_id": peer_id, "message": message, "random_id": random_id})
    except (vk_api.VkApiError, requests.RequestException) as exc:
        raise OutletError(f"VK: {exc}"[:300]) from exc
    return int(answer)


def telegram_channel_post(*, text: str) -> str:
    try:
        return str(send_to_chat(chat_id=settings.SETKA_TELEGRAM_CHANNEL, text=text))
    except SendFailed as exc:
        raise OutletError(f"Telegram: {exc}"[:300]) from exc
