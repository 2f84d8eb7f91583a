"""A fake VK API (aiohttp, standalone). It answers `wall.post` at the real path
/method/wall.post (GET query or POST form, with `access_token` and `v`), VK's envelopes
`{"response": {...}}` / `{"error": {"error_code", "error_msg", "request_params"}}`, and plays
VK's Callback API: it asks a server to confirm (`{"type": "confirmation", "group_id"}` must be
answered with the confirmation string) and then posts events carrying the `secret`.

Control API (JSON):
    POST /_control/group   {"group_id": 1, "token": "...", "confirmation": "abc123", "secret": "..."}
    GET  /_control/posts?owner_id=-1      the wall as posted
    POST /_control/fail    {"error_code": 6, "count": 1}   the next calls fail with that VK error
    POST /_control/callback {"url": "...", "group_id": 1}  confirm the server, then send a wall_post_new
Run: python -m announcements.fakes.vkapi --port 8783
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

from aiohttp import ClientSession, web

ERRORS = {5: "User authorization failed: invalid access_token", 6: "Too many requests per second", 15: "Access denied"}


class FakeVkApi:
    def __init__(self):
        self.groups: dict[int, dict] = {}
        self.posts: list[dict] = []
        self.post_ids = itertools.count(1)
        self.failures: list[int] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/method/{name}", self.method)
        self.app.router.add_post("/_control/group", self.control_group)
        self.app.router.add_get("/_control/posts", self.control_posts)
        self.app.router.add_post("/_control/fail", self.control_fail)
        self.app.router.add_post("/_control/callback", self.control_callback)
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
    args = parser.parse_args(argv)
    fake = FakeVkApi()
    if args.group_id:
        fake.groups[args.group_id] = {"group_id": args.group_id, "token": args.token, "confirmation": "", "secret": ""}
    print(f"fake VK API on http://127.0.0.1:{args.port}", flush=True)
    web.run_app(fake.app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
