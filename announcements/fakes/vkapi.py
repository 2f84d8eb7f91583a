"""A fake VK API (aiohttp, standalone). It answers `wall.post` and `messages.send` at the real
paths /method/<name> (GET query or POST form, with `access_token` and `v`), VK's envelopes
`{"response": ...}` / `{"error": {"error_code", "error_msg", "request_params"}}`, and plays
VK's Callback API: it asks a server to confirm (`{"type": "confirmation", "group_id"}` must be
answered with the confirmation string), remembers that server, and then posts events to it in
VK's shape (`{"type", "object", "group_id", "event_id", "v", "secret"}`).

messages.send (the community writes to a user): `random_id` is required (error 100) and makes
the call idempotent: the same random_id to the same peer returns the first message's id and
sends nothing; a user who never wrote to the community cannot be written to (error 901).

Control API (JSON):
    POST /_control/group   {"group_id": 1, "token": "...", "confirmation": "abc123", "secret": "..."}
    GET  /_control/posts?owner_id=-1      the wall as posted
    POST /_control/fail    {"error_code": 6, "count": 1}   the next calls fail with that VK error
    POST /_control/callback {"url": "...", "group_id": 1}  confirm the server (then remembered as the
                                          group's callback server), then send a wall_post_new
    POST /_control/message {"group_id", "from_id", "text", "repeat"?: 2}  a user writes to the
                                          community: message_new to the callback server
                                          (repeat: VK delivers the same event again)
    POST /_control/comment {"group_id", "post_id", "from_id", "text"}  wall_reply_new
    GET  /_control/messages?peer_id=      what the community sent with messages.send
Run: python -m announcements.fakes.vkapi --port 8783
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import time
from typing import Any

from aiohttp import ClientError, ClientSession, web

ERRORS = {
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token",
    6: "Too many requests per second",
    8: "Invalid request: v (version) is required",
    15: "Access denied",
    100: "One of the parameters specified was missing or invalid",
    901: "Can't send messages for users without permission",
}


class FakeVkApi:
    def __init__(self):
        self.groups: dict[int, dict] = {}
        self.posts: list[dict] = []
        self.post_ids = itertools.count(1)
        self.failures: list[int] = []
        self.messages: list[dict] = []  # sent by communities (messages.send)
        self.message_ids = itertools.count(1)
        self.event_ids = itertools.count(1)
        self.sent_by_random: dict[tuple[int, int, int], int] = {}  # (group, peer, random_id) -> id
        self.writers: set[tuple[int, int]] = set()  # (group, user) who wrote to the community
        self.comment_ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_route("*", "/method/{name}", self.method)
        self.app.router.add_post("/_control/group", self.control_group)
        self.app.router.add_get("/_control/posts", self.control_posts)
        self.app.router.add_post("/_control/fail", self.control_fail)
        self.app.router.add_post("/_control/callback", self.control_callback)
        self.app.router.add_post("/_control/message", self.control_message)
        self.app.router.add_post("/_control/comment", self.control_comment)
        self.app.router.add_get("/_control/messages", self.control_messages)
        self.app.router.add_get("/_control/health", self.health)

    @staticmethod
    def _error(code: int, params: dict) -> web.Response:
        shown = [{"key": k, "value": v} for k, v in params.items() if k != "access_token"]
        return web.json_response(
            {"error": {"error_code": code, "error_msg": ERRORS.get(code, "Unknown error"), "request_params": shown}}
        )

    async def method(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            params.update(await request.post())
        name = request.match_info["name"]
        if "v" not in params:
            return self._error(8, params)
        if self.failures:
            return self._error(self.failures.pop(0), params)
        if name == "messages.send":
            return self._messages_send(params)
        if name != "wall.post":
            return self._error(3, params)
        owner_id = int(params.get("owner_id", 0))
        group = self.groups.get(-owner_id)
        if group is None or params.get("access_token") != group["token"]:
            return self._error(5, params)
        if not params.get("message") and not params.get("attachments"):
            return self._error(100, params)
        post_id = next(self.post_ids)
        self.posts.append(
            {
                "id": post_id,
                "owner_id": owner_id,
                "from_group": str(params.get("from_group", "0")) == "1",
                "message": params.get("message", ""),
                "attachments": params.get("attachments", ""),
                "v": params["v"],
                "date": int(time.time()),
            }
        )
        return web.json_response({"response": {"post_id": post_id}})

    def _messages_send(self, params: dict) -> web.Response:
        group = next((g for g in self.groups.values() if g.get("token") == params.get("access_token")), None)
        if group is None:
            return self._error(5, params)
        try:
            peer_id = int(params.get("peer_id") or params.get("user_id") or 0)
            random_id = int(params["random_id"])
        except (KeyError, ValueError):
            return self._error(100, params)
        if not peer_id or not (params.get("message") or params.get("attachment")):
            return self._error(100, params)
        group_id = int(group["group_id"])
        if (group_id, peer_id) not in self.writers:
            return self._error(901, params)
        key = (group_id, peer_id, random_id)
        if random_id and key in self.sent_by_random:  # a retried send: the first message, not a second one
            return web.json_response({"response": self.sent_by_random[key]})
        message_id = next(self.message_ids)
        self.sent_by_random[key] = message_id
        self.messages.append(
            {
                "id": message_id,
                "group_id": group_id,
                "peer_id": peer_id,
                "random_id": random_id,
                "text": params.get("message", ""),
                "date": int(time.time()),
            }
        )
        return web.json_response({"response": message_id})

    async def _send_event(self, group: dict, type_: str, obj: dict, *, repeat: int = 1) -> dict:
        """POST one event to the group's callback server as VK does (the same event_id on every
        delivery); answers what the server said each time."""
        url = group.get("callback_url")
        if not url:
            return {"error": "no callback server confirmed for this group"}
        event_id = hashlib.sha1(f"{group['group_id']}:{next(self.event_ids)}".encode()).hexdigest()
        event = {
            "group_id": int(group["group_id"]),
            "type": type_,
            "event_id": event_id,
            "v": "5.199",
            "object": obj,
            "secret": group.get("secret", ""),
        }
        answers = []
        async with ClientSession() as session:
            for _ in range(max(1, int(repeat))):
                try:
                    async with session.post(url, json=event) as resp:
                        answers.append([resp.status, (await resp.text()).strip()])
                except ClientError as exc:  # the server is down: VK would retry later
                    answers.append([0, f"{type(exc).__name__}"])
        return {"event_id": event_id, "answers": answers}

    async def control_message(self, request):
        body = await request.json()
        group = self.groups[int(body["group_id"])]
        from_id = int(body["from_id"])
        self.writers.add((int(group["group_id"]), from_id))
        message_id = next(self.message_ids)
        obj = {
            "message": {
                "date": int(time.time()),
                "from_id": from_id,
                "id": message_id,
                "out": 0,
                "version": 10_000_000 + message_id,
                "attachments": [],
                "conversation_message_id": message_id,
                "fwd_messages": [],
                "important": False,
                "is_hidden": False,
                "peer_id": from_id,
                "random_id": 0,
                "text": str(body.get("text", "")),
            },
            "client_info": {
                "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
                "keyboard": True,
                "inline_keyboard": True,
                "carousel": True,
                "lang_id": int(body.get("lang_id", 0)),
            },
        }
        answer = await self._send_event(group, "message_new", obj, repeat=int(body.get("repeat", 1)))
        return web.json_response({**answer, "message_id": message_id})

    async def control_comment(self, request):
        body = await request.json()
        group = self.groups[int(body["group_id"])]
        owner_id = -int(group["group_id"])
        obj = {
            "id": next(self.comment_ids),
            "from_id": int(body["from_id"]),
            "post_id": int(body["post_id"]),
            "owner_id": owner_id,
            "parents_stack": [],
            "date": int(time.time()),
            "text": str(body.get("text", "")),
            "thread": {"count": 0},
            "post_owner_id": owner_id,
        }
        answer = await self._send_event(group, "wall_reply_new", obj, repeat=int(body.get("repeat", 1)))
        return web.json_response({**answer, "comment_id": obj["id"]})

    async def control_messages(self, request):
        peer = request.query.get("peer_id")
        return web.json_response([m for m in self.messages if peer is None or str(m["peer_id"]) == peer])

    async def health(self, request):
        return web.json_response({"ok": True})

    async def control_group(self, request):
        body = await request.json()
        self.groups[int(body["group_id"])] = body
        return web.json_response({"ok": True})

    async def control_posts(self, request):
        owner = request.query.get("owner_id")
        return web.json_response([p for p in self.posts if owner is None or str(p["owner_id"]) == owner])

    async def control_fail(self, request):
        body = await request.json()
        self.failures.extend([int(body.get("error_code", 6))] * int(body.get("count", 1)))
        return web.json_response({"ok": True})

    async def control_callback(self, request):
        """Confirm a Callback API server as VK does; if it answers the right string, send it one
        event with the group's secret. Answers what the server said."""
        body = await request.json()
        group = self.groups[int(body["group_id"])]
        async with ClientSession() as session:
            async with session.post(body["url"], json={"type": "confirmation", "group_id": group["group_id"]}) as resp:
                confirmation = (await resp.text()).strip()
            confirmed = confirmation == group.get("confirmation")
            event_status = None
            if confirmed:
                group["callback_url"] = body["url"]
                event = {
                    "type": "wall_post_new",
                    "object": self.posts[-1] if self.posts else {},
                    "group_id": group["group_id"],
                    "event_id": f"ev{next(self.post_ids)}",
                    "secret": body.get("secret", group.get("secret", "")),
                    "v": "5.199",
                }
                async with session.post(body["url"], json=event) as resp:
                    event_status = [resp.status, (await resp.text()).strip()]
        return web.json_response({"confirmed": confirmed, "event": event_status})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake VK API (127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=8783)
    parser.add_argument("--group-id", type=int, default=0, help="create this community at start")
    parser.add_argument("--token", default="vk-dev-token")
    parser.add_argument("--confirmation", default="", help="the string our server must answer to confirm")
    parser.add_argument("--secret", default="", help="the secret sent with every event")
    parser.add_argument("--callback-url", default="", help="deliver the community's events to this server")
    args = parser.parse_args(argv)
    fake = FakeVkApi()
    if args.group_id:
        fake.groups[args.group_id] = {
            "group_id": args.group_id,
            "token": args.token,
            "confirmation": args.confirmation,
            "secret": args.secret,
            "callback_url": args.callback_url,
        }
    print(f"fake VK API on http://127.0.0.1:{args.port}", flush=True)
    web.run_app(fake.app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
