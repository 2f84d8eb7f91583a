"""The bot's aiogram router: thin handlers that ask telegram_bot.replies (sync, the database)
what to answer and send it."""

from __future__ import annotations

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from asgiref.sync import sync_to_async

from telegram_bot import replies, stars

COMMANDS = ("status", "bots", "bot", "profit", "stop", "plans", "support", "done")


def _markup(reply: replies.Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data) for label, data in reply.buttons]]
    )


def _language(message: Message | CallbackQuery) -> str | None:
    return message.from_user.language_code if message.from_user else None


async def on_start(message: Message, command: CommandObject) -> None:
    if message.chat.type != "private":
        return
    reply = await sync_to_async(replies.reply_start)(
        chat_id=message.chat.id,
        args=command.args,
        username=(message.from_user.username or "") if message.from_user else "",
        language_code=_language(message),
    )
    await message.answer(reply.text, reply_markup=_markup(reply))


async def on_command(message: Message, command: CommandObject) -> None:
    if message.chat.type != "private":
        return
    reply = await sync_to_async(replies.reply_command)(
        chat_id=message.chat.id, command=command.command, args=command.args, language_code=_language(message)
    )
    await message.answer(reply.text, reply_markup=_markup(reply))


async def on_stop_answer(query: CallbackQuery) -> None:
    chat = query.message.chat if query.message else None
    if chat is None or chat.type != "private" or chat.id != query.from_user.id:
        await query.answer()
        return
    reply = await sync_to_async(replies.reply_stop_answer)(chat_id=chat.id, data=query.data or "")
    await query.answer()
    if reply is not None:
        assert isinstance(query.message, Message)  # an inaccessible message has no edit_text either way
        await query.message.edit_text(reply.text, reply_markup=None)


async def on_text(message: Message) -> None:
    if message.chat.type != "private":
        return
    reply = await sync_to_async(replies.reply_text)(
        chat_id=message.chat.id, text=message.text or "", language_code=_language(message)
    )
    if reply is not None:
        await message.answer(reply.text, reply_markup=_markup(reply))


async def on_buy(query: CallbackQuery) -> None:
    chat = query.message.chat if query.message else None
    await query.answer()
    if chat is None or chat.type != "private" or chat.id != query.from_user.id:
        return
    invoice = await sync_to_async(replies.invoice_for)(chat_id=chat.id, data=query.data or "")
    if isinstance(invoice, replies.Reply):
        assert query.message is not None  # a chat was found on it above
        await query.message.answer(invoice.text)
    elif invoice is not None:
        assert query.bot is not None  # the dispatcher binds every update to the bot
        await query.bot.send_invoice(
            chat_id=chat.id,
            title=invoice["title"],
            description=invoice["description"],
            payload=invoice["payload"],
            currency=stars.CURRENCY,
            prices=[LabeledPrice(label=invoice["title"], amount=invoice["amount"])],
        )


async def on_pre_checkout(query: PreCheckoutQuery) -> None:
    """Telegram waits at most 10 s for this answer: one indexed read, then answer."""
    problem = await sync_to_async(stars.stars_precheckout)(
        chat_id=query.from_user.id,
        payload=query.invoice_payload,
        currency=query.currency,
        total_amount=query.total_amount,
    )
    if problem is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=problem)


async def on_successful_payment(message: Message) -> None:
    assert message.successful_payment is not None  # routed by F.successful_payment
    reply = await sync_to_async(replies.reply_paid)(
        chat_id=message.chat.id,
        payment=message.successful_payment.model_dump(),
        update=message.model_dump(mode="json", exclude_none=True),
    )
    if reply is not None:
        await message.answer(reply.text)


def make_router() -> Router:
    router = Router(name="setka")
    router.message.register(on_start, CommandStart())
    router.message.register(on_command, Command(*COMMANDS))
    router.callback_query.register(on_stop_answer, F.data.startswith("stop:"))
    router.callback_query.register(on_buy, F.data.startswith("buy:"))
    router.pre_checkout_query.register(on_pre_checkout)
    router.message.register(on_successful_payment, F.successful_payment)
    router.message.register(on_text, F.text)
    return router


def make_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_router(make_router())
    return dispatcher
