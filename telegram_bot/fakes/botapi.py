"""A fake Telegram Bot API server (aiohttp, standalone: it knows nothing of Setka).

It answers the methods aiogram 3 calls, at the real paths `/bot<token>/<method>` (JSON, form or
multipart bodies; complex fields as JSON strings, as aiogram sends them), with Telegram's
envelopes: `{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...,
"parameters": {"retry_after": N}}`.

Bot methods: getMe, sendMessage (inline keyboards), editMessageText, editMessageReplyMarkup,
answerCallbackQuery, setWebhook / deleteWebhook / getWebhookInfo (updates are then POSTed to the
webhook with the X-Telegram-Bot-Api-Secret-Token header), getUpdates (long polling), sendInvoice
and answerPreCheckoutQuery (Telegram Stars, currency XTR), refundStarPayment (a paid charge is
refunded once, to its payer: a second call answers 400 CHARGE_ALREADY_REFUNDED, an unknown charge
400 CHARGE_NOT_FOUND, another user's charge 400 USER_ID_INVALID; the bot then receives the
refunded_payment message, as from Bot API 7.10), setMyCommands, close, logOut.

A chat exists once its user has written to the bot (as in Telegram: a bot cannot start a chat);
channels are created through the control API. Unknown chats answer 400 "chat not found", a
user who blocked the bot 403, and a chat flooded with more than `per_chat_burst` messages in one
second (or everything above `global_per_second`) 429 with retry_after.

Control API for tests and the quick start (JSON):
    POST /_control/<token>/message   {"user_id", "text", "first_name"?, "language_code"?}
    POST /_control/<token>/callback  {"user_id", "message_id", "data"}   -> {"callback_query_id"}
    POST /_control/<token>/pay       {"user_id", "message_id"}  pays a sent invoice (pre-checkout
                                     query, waits for the bot's answer, then successful_payment)
    POST /_control/<token>/block     {"user_id", "blocked": true}
    POST /_control/<token>/channel   {"chat_id": -100..., "username": "setka_news", "title"}
    POST /_control/<token>/flood     {"retry_after": 3, "count": 1}   next N sends answer 429
    GET  /_control/<token>/sent?chat_id=   messages the bot sent (with edits and keyboards)
    GET  /_control/<token>/callbacks       answerCallbackQuery calls
    GET  /_control/<token>/checkouts       answerPreCheckoutQuery calls
    GET  /_control/<token>/charges         Stars charges paid, with "refunded" and "refund_calls"
    GET  /_control/health
Run: python -m telegram_bot.fakes.botapi --port 8781 [--token TOKEN] [--username setka_bot]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from aiohttp import ClientSession, ClientTimeout, web

TOKEN_PATTERN = r"{token:[0-9]+:[A-Za-z0-9_-]+}"


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class BotState:
    token: str
    username: str
    bot_id: int
    update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    updates: list[dict] = field(default_factory=list)
    new_update: asyncio.Event = field(default_factory=asyncio.Event)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_errors: int = 0
    last_error: str = ""
    users: dict[int, dict] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    channels: dict[int, dict] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict] = field(default_factory=dict)  # (chat_id, message_id)
    sent: list[dict] = field(default_factory=list)
    callbacks: list[dict] = field(default_factory=list)
    checkouts: dict[str, dict] = field(default_factory=dict)
    checkout_answered: dict[str, asyncio.Event] = field(default_factory=dict)
    chat_times: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))
    global_times: deque = field(default_factory=deque)
    flood: list[int] = field(default_factory=list)
    charges: dict[str, dict] = field(default_factory=dict)  # telegram_payment_charge_id -> charge


class FakeBotApi:
    def __init__(self, *, default_username: str = "setka_bot", per_chat_burst: int = 3, global_per_second: int = 30):
        self.bots: dict[str, BotState] = {}
        self.default_username = default_username
        self.per_chat_burst = per_chat_burst
        self.global_per_second = global_per_second
        self.session: ClientSession | None = None
        self.app = web.Application(client_max_size=20 * 1024 * 1024)
        self.app.router.add_get("/_control/health", self.health)
        self.app.router.add_post(f"/_control/{TOKEN_PATTERN}/{{action}}", self.control_post)
        self.app.router.add_get(f"/_control/{TOKEN_PATTERN}/{{action}}", self.control_get)
        self.app.router.add_route("*", f"/bot{TOKEN_PATTERN}/{{method}}", self.method)
        self.app.on_cleanup.append(self._close)

    async def _close(self, app) -> None:
        if self.session is not None:
            await self.session.close()

    def bot(self, token: str) -> BotState:
        if token not in self.bots:
            bot_id = int(token.split(":", 1)[0])
            self.bots[token] = BotState(token=token, username=self.default_username, bot_id=bot_id)
        return self.bots[token]

    # -- wire helpers -------------------------------------------------------------------------
    @staticmethod
    async def _params(request: web.Request) -> dict:
        if request.method == "GET":
            return dict(request.query)
        ctype = request.content_type
        if ctype == "application/json":
            return await request.json()
        form = await request.post()
        params = {}
        for key, value in form.items():
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params

    @staticmethod
    def _ok(result) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(exc: ApiError) -> web.Response:
        body = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None:
            body["parameters"] = {"retry_after": exc.retry_after}
        return web.json_response(body, status=exc.code)

    def _user(self, state: BotState, user_id: int) -> dict:
        return state.users[user_id]

    def _chat(self, state: BotState, chat_id) -> dict:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in state.channels.values():
                if chat.get("username") == chat_id[1:]:
                    return chat
            raise ApiError(400, "Bad Request: chat not found")
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id in state.channels:
            return state.channels[chat_id]
        if chat_id not in state.users:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in state.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        user = state.users[chat_id]
        return {"id": chat_id, "type": "private", "first_name": user["first_name"], "username": user.get("username")}

    def _limit(self, state: BotState, chat_id: int) -> None:
        if state.flood:
            retry = state.flood.pop(0)
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        now = time.monotonic()
        times = state.chat_times[chat_id]
        while times and now - times[0] > 1.0:
            times.popleft()
        while state.global_times and now - state.global_times[0] > 1.0:
            state.global_times.popleft()
        if len(times) >= self.per_chat_burst or len(state.global_times) >= self.global_per_second:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        times.append(now)
        state.global_times.append(now)

    def _me(self, state: BotState) -> dict:
        return {
            "id": state.bot_id,
            "is_bot": True,
            "first_name": "Setka",
            "username": state.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _store_sent(self, state: BotState, chat: dict, params: dict, extra: dict | None = None) -> dict:
        message_id = next(state.message_ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            **({"from": self._me(state)} if chat["type"] == "private" else {"sender_chat": chat}),
        }
        if "text" in params:
            message["text"] = str(params["text"])
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        message.update(extra or {})
        state.messages[(chat["id"], message_id)] = message
        state.sent.append(
            {
                **message,
                "chat_id": chat["id"],
                "parse_mode": params.get("parse_mode"),
                "sent_at": time.time(),
                "edits": [],
            }
        )
        return message

    def _sent_record(self, state: BotState, chat_id: int, message_id: int) -> dict | None:
        for record in state.sent:
            if record["chat_id"] == chat_id and record["message_id"] == message_id:
                return record
        return None

    # -- updates ------------------------------------------------------------------------------
    async def _push(self, state: BotState, payload: dict) -> dict:
        update = {"update_id": next(state.update_ids), **payload}
        if state.webhook_url:
            asyncio.get_running_loop().create_task(self._deliver(state, update))
        else:
            state.updates.append(update)
            state.new_update.set()
        return update

    async def _deliver(self, state: BotState, update: dict) -> None:
        if self.session is None:
            self.session = ClientSession(timeout=ClientTimeout(total=30))
        headers = {"Content-Type": "application/json"}
        if state.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = state.webhook_secret
        for attempt in range(5):
            try:
                async with self.session.post(state.webhook_url, data=json.dumps(update), headers=headers) as resp:
                    if resp.status < 300:
                        return
                    state.last_error = f"Wrong response from the webhook: {resp.status}"
            except Exception as exc:  # noqa: BLE001 - a fake reports every delivery failure the same way
                state.last_error = f"Connection failed: {exc}"
            state.webhook_errors += 1
            await asyncio.sleep(0.2 * (attempt + 1))

    def _from(self, state: BotState, body: dict) -> dict:
        user_id = int(body["user_id"])
        user = state.users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": body.get("first_name", f"User {user_id}"),
            "username": body.get("username", f"user{user_id}"),
            "language_code": body.get("language_code", "ru"),
        }
        state.users[user_id] = user
        return user

    # -- the Bot API --------------------------------------------------------------------------
    async def method(self, request: web.Request) -> web.Response:
        state = self.bot(request.match_info["token"])
        name = request.match_info["method"].lower()
        handler = getattr(self, f"api_{name}", None)
        if handler is None:
            return self._error(ApiError(404, "Not Found: method not found"))
        try:
            params = await self._params(request)
            return self._ok(await handler(state, params))
        except ApiError as exc:
            return self._error(exc)
        except (KeyError, ValueError, TypeError) as exc:
            return self._error(ApiError(400, f"Bad Request: {exc}"))

    async def api_getme(self, state, params):
        return self._me(state)

    async def api_close(self, state, params):
        return True

    async def api_logout(self, state, params):
        return True

    async def api_setmycommands(self, state, params):
        return True

    async def api_deletemycommands(self, state, params):
        return True

    async def api_sendmessage(self, state, params):
        if not str(params.get("text", "")).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(params["text"])) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        chat = self._chat(state, params["chat_id"])
        self._limit(state, chat["id"])
        return self._store_sent(state, chat, params)

    async def api_editmessagetext(self, state, params):
        chat = self._chat(state, params["chat_id"])
        message = state.messages.get((chat["id"], int(params["message_id"])))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("text") == params["text"] and message.get("reply_markup") == params.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        message["text"] = str(params["text"])
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        record = self._sent_record(state, chat["id"], message["message_id"])
        if record is not None:
            record["edits"].append({"text": message["text"], "reply_markup": message.get("reply_markup")})
        return message

    async def api_editmessagereplymarkup(self, state, params):
        chat = self._chat(state, params["chat_id"])
        message = state.messages.get((chat["id"], int(params["message_id"])))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def api_answercallbackquery(self, state, params):
        state.callbacks.append({"callback_query_id": str(params["callback_query_id"]), "text": params.get("text")})
        return True

    async def api_setwebhook(self, state, params):
        url = str(params.get("url", ""))
        if url and not url.startswith(("http://127.0.0.1", "http://localhost", "https://127.0.0.1")):
            raise ApiError(400, "Bad Request: bad webhook: this fake delivers only to 127.0.0.1")
        state.webhook_url = url
        state.webhook_secret = str(params.get("secret_token", ""))
        if params.get("drop_pending_updates") in (True, "true", "True"):
            state.updates.clear()
        for update in state.updates if url else []:
            asyncio.get_running_loop().create_task(self._deliver(state, update))
        if url:
            state.updates.clear()
        return True

    async def api_deletewebhook(self, state, params):
        state.webhook_url = ""
        state.webhook_secret = ""
        if params.get("drop_pending_updates") in (True, "true", "True"):
            state.updates.clear()
        return True

    async def api_getwebhookinfo(self, state, params):
        info = {"url": state.webhook_url, "has_custom_certificate": False, "pending_update_count": len(state.updates)}
        if state.last_error:
            info["last_error_message"] = state.last_error
            info["last_error_date"] = int(time.time())
        return info

    async def api_getupdates(self, state, params):
        if state.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 50.0)
        limit = int(params.get("limit") or 100)
        if offset:
            state.updates = [u for u in state.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not state.updates and time.monotonic() < deadline:
            state.new_update.clear()
            try:
                await asyncio.wait_for(state.new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return state.updates[:limit]

    async def api_sendinvoice(self, state, params):
        if params.get("currency") != "XTR":
            raise ApiError(400, "Bad Request: this fake takes payments in Telegram Stars (XTR) only")
        prices = params.get("prices") or []
        if not prices or any(int(p["amount"]) <= 0 for p in prices):
            raise ApiError(400, "Bad Request: invalid prices")
        chat = self._chat(state, params["chat_id"])
        self._limit(state, chat["id"])
        invoice = {
            "title": params["title"],
            "description": params["description"],
            "start_parameter": "",
            "currency": "XTR",
            "total_amount": sum(int(p["amount"]) for p in prices),
        }
        message = self._store_sent(state, chat, params, {"invoice": invoice})
        state.sent[-1]["invoice_payload"] = params["payload"]
        return message

    async def api_answerprecheckoutquery(self, state, params):
        query_id = str(params["pre_checkout_query_id"])
        if query_id not in state.checkouts:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        answer = state.checkouts[query_id]
        answer["ok"] = params.get("ok") in (True, "true", "True")
        answer["error_message"] = params.get("error_message")
        answer["answered_at"] = time.time()
        state.checkout_answered[query_id].set()
        return True

    # -- control API --------------------------------------------------------------------------
    async def api_refundstarpayment(self, state, params):
        try:
            user_id = int(params["user_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: USER_ID_INVALID") from None
        charge_id = str(params.get("telegram_payment_charge_id") or "")
        charge = state.charges.get(charge_id)
        if charge is None:
            raise ApiError(400, "Bad Request: CHARGE_NOT_FOUND")
        charge["refund_calls"] += 1
        if charge["user_id"] != user_id:
            raise ApiError(400, "Bad Request: USER_ID_INVALID")
        if charge["refunded"]:
            raise ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        charge["refunded"] = True
        user = state.users[user_id]
        message = {
            "message_id": next(state.message_ids),
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
            "date": int(time.time()),
            "refunded_payment": {
                "currency": "XTR",
                "total_amount": charge["total_amount"],
                "invoice_payload": charge["invoice_payload"],
                "telegram_payment_charge_id": charge_id,
            },
        }
        await self._push(state, {"message": message})
        return True

    async def health(self, request):
        return web.json_response({"ok": True})

    async def control_get(self, request: web.Request) -> web.Response:
        state = self.bot(request.match_info["token"])
        action = request.match_info["action"]
        if action == "sent":
            chat_id = request.query.get("chat_id")
            sent = [s for s in state.sent if chat_id is None or str(s["chat_id"]) == chat_id]
            for record in sent:  # the current text and keyboard after edits
                current = state.messages.get((record["chat_id"], record["message_id"]), {})
                record["current_text"] = current.get("text")
                record["current_reply_markup"] = current.get("reply_markup")
            return web.json_response(sent)
        if action == "callbacks":
            return web.json_response(state.callbacks)
        if action == "checkouts":
            return web.json_response(list(state.checkouts.values()))
        if action == "charges":
            return web.json_response(state.charges)
        if action == "webhook":
            return web.json_response({"url": state.webhook_url, "secret": bool(state.webhook_secret)})
        raise web.HTTPNotFound()

    async def control_post(self, request: web.Request) -> web.Response:
        state = self.bot(request.match_info["token"])
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "message":
            user = self._from(state, body)
            text = str(body["text"])
            message = {
                "message_id": next(state.message_ids),
                "from": user,
                "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            state.messages[(user["id"], message["message_id"])] = message
            update = await self._push(state, {"message": message})
            return web.json_response({"update_id": update["update_id"], "message_id": message["message_id"]})
        if action == "callback":
            user = self._from(state, body)
            shown = state.messages.get((user["id"], int(body["message_id"])))
            if shown is None:
                return web.json_response({"error": "no such message in this chat"}, status=404)
            query_id = str(next(state.update_ids) * 7919)
            await self._push(
                state,
                {
                    "callback_query": {
                        "id": query_id,
                        "from": user,
                        "message": shown,
                        "chat_instance": str(user["id"]),
                        "data": str(body["data"]),
                    }
                },
            )
            return web.json_response({"callback_query_id": query_id})
        if action == "pay":
            return await self._pay(state, body)
        if action == "block":
            user = self._from(state, body)
            (state.blocked.add if body.get("blocked", True) else state.blocked.discard)(user["id"])
            return web.json_response({"ok": True})
        if action == "channel":
            chat_id = int(body["chat_id"])
            state.channels[chat_id] = {
                "id": chat_id,
                "type": "channel",
                "title": body.get("title", "Channel"),
                "username": body.get("username"),
            }
            return web.json_response({"ok": True})
        if action == "flood":
            state.flood.extend([int(body.get("retry_after", 1))] * int(body.get("count", 1)))
            return web.json_response({"ok": True})
        if action == "reset":
            self.bots.pop(state.token, None)
            return web.json_response({"ok": True})
        raise web.HTTPNotFound()

    async def _pay(self, state: BotState, body: dict) -> web.Response:
        """The user presses Pay on an invoice: a pre_checkout_query goes to the bot, which must
        answer within 10 s; only an ok answer is followed by the successful_payment message."""
        user = self._from(state, body)
        record = self._sent_record(state, user["id"], int(body["message_id"]))
        if record is None or "invoice" not in record:
            return web.json_response({"error": "no such invoice"}, status=404)
        query_id = f"pcq{next(state.update_ids)}"
        invoice = record["invoice"]
        state.checkouts[query_id] = {"id": query_id, "payload": record["invoice_payload"], "ok": None}
        state.checkout_answered[query_id] = asyncio.Event()
        await self._push(
            state,
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": user,
                    "currency": "XTR",
                    "total_amount": invoice["total_amount"],
                    "invoice_payload": record["invoice_payload"],
                }
            },
        )
        try:
            await asyncio.wait_for(state.checkout_answered[query_id].wait(), float(body.get("timeout", 10)))
        except TimeoutError:
            return web.json_response({"paid": False, "reason": "the bot did not answer within 10 s"})
        answer = state.checkouts[query_id]
        if not answer["ok"]:
            return web.json_response({"paid": False, "reason": answer.get("error_message") or "declined"})
        charge_id = body.get("charge_id") or f"stxFAKE{query_id}"
        state.charges[charge_id] = {
            "user_id": user["id"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": record["invoice_payload"],
            "refunded": False,
            "refund_calls": 0,
        }
        message = {
            "message_id": next(state.message_ids),
            "from": user,
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "date": int(time.time()),
            "successful_payment": {
                "currency": "XTR",
                "total_amount": invoice["total_amount"],
                "invoice_payload": record["invoice_payload"],
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": "",
            },
        }
        await self._push(state, {"message": message})
        if body.get("deliver_twice"):  # Telegram may deliver an update again after a timeout
            await self._push(state, {"message": message})
        return web.json_response({"paid": True, "telegram_payment_charge_id": charge_id})


def make_app(**kwargs) -> web.Application:
    return FakeBotApi(**kwargs).app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API (127.0.0.1 only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--username", default="setka_bot")
    parser.add_argument("--token", default="123456:SETKA-dev-token", help="the bot whose channel --channel creates")
    parser.add_argument("--channel", default="", help="create this public channel (e.g. @setka_news) at start")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the fake Bot API listens on loopback only")
    print(f"fake Telegram Bot API on http://{args.host}:{args.port}", flush=True)
    fake = FakeBotApi(default_username=args.username)
    if args.channel:
        fake.bot(args.token).channels[-1001000000001] = {
            "id": -1001000000001,
            "type": "channel",
            "title": "Setka",
            "username": args.channel.lstrip("@"),
        }
    web.run_app(fake.app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
