"""The channel registry. A channel sender is a small class:

    class TelegramSender:
        name = "telegram"
        def address(self, user) -> str | None: ...   # None: not set up for this user (skipped)
        def send(self, message: OutgoingMessage) -> str: ...  # returns the delivery id

`send` raises RetryableSendError (tried again later with backoff) or FinalSendError (recorded,
never retried). Register a sender once, e.g. in an AppConfig.ready():

    from notifications.channels import channel_register
    channel_register(TelegramSender())

The in-app channel is the Notification row itself (no sender); email is built in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class SendError(Exception):
    pass


class RetryableSendError(SendError):
    """The channel failed for now (timeout, 5xx, rate limit): the outbox tries again later."""


class FinalSendError(SendError):
    """The channel will never take this message (blocked chat, bad address): recorded, not retried."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    user_id: int
    channel: str
    address: str
    event: str
    language: str
    title: str
    body: str
    url: str  # absolute link into the app ("" when none)
    params: dict = field(default_factory=dict)
    help_url: str = ""  # absolute link to the knowledge-base article "How to fix" ("" when none)


class ChannelSender(Protocol):
    name: str

    def address(self, user) -> str | None: ...

    def send(self, message: OutgoingMessage) -> str: ...


_REGISTRY: dict[str, ChannelSender] = {}


def channel_register(sender: ChannelSender) -> None:
    _REGISTRY[sender.name] = sender


def channel_get(name: str) -> ChannelSender | None:
    return _REGISTRY.get(name)


def channels_registered() -> list[str]:
    return list(_REGISTRY)


def register_builtin() -> None:
    from notifications.email import EmailSender

    channel_register(EmailSender())
