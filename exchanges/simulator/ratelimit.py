"""Per-UID, per-endpoint rolling one-second rate limits (Bybit V5 defaults, non-VIP UTA)."""

from __future__ import annotations

from collections import defaultdict, deque

# path -> {category: limit}; "*" applies to every category
LIMITS: dict[str, dict[str, int]] = {
    "/v5/order/create": {"spot": 20, "linear": 10, "*": 10},
    "/v5/order/amend": {"*": 10},
    "/v5/order/cancel": {"spot": 20, "linear": 10, "*": 10},
    "/v5/order/cancel-all": {"spot": 20, "linear": 10, "*": 10},
    "/v5/order/create-batch": {"spot": 20, "linear": 10, "*": 10},
    "/v5/order/amend-batch": {"spot": 20, "linear": 10, "*": 10},
    "/v5/order/cancel-batch": {"spot": 20, "linear": 10, "*": 10},
    "/v5/order/realtime": {"*": 50},
    "/v5/order/history": {"*": 50},
    "/v5/execution/list": {"*": 50},
    "/v5/position/list": {"*": 50},
    "/v5/account/wallet-balance": {"*": 50},
    "/v5/account/fee-rate": {"*": 5},
    "/v5/account/info": {"*": 50},
    "/v5/user/query-api": {"*": 10},
    "/v5/position/set-leverage": {"*": 10},
}
DEFAULT_LIMIT = 50
WINDOW_MS = 1000


class RateLimiter:
    """`limits`/`default`/`window_ms`: another venue's table (default: Bybit's)."""

    def __init__(self, limits: dict | None = None, *, default: int = DEFAULT_LIMIT, window_ms: int = WINDOW_MS):
        self.hits: dict[tuple, deque] = defaultdict(deque)
        self.limits = LIMITS if limits is None else limits
        self.default = default
        self.window_ms = window_ms

    def limit_for(self, path: str, category: str | None) -> int:
        table = self.limits.get(path)
        if table is None:
            return self.default
        return table.get(category or "*", table.get("*", self.default))

    def take(
        self, uid: int, path: str, category: str | None, units: int, now_ms: int, multiplier: int = 1
    ) -> tuple[int, int, int, int]:
        """Consume up to `units`; return (granted, limit, remaining, reset_ms). reset_ms is never in the past."""
        limit = self.limit_for(path, category) * max(1, int(multiplier))
        q = self.hits[(uid, path, category)]
        while q and q[0] <= now_ms - self.window_ms:
            q.popleft()
        granted = max(0, min(units, limit - len(q)))
        for _ in range(granted):
            q.append(now_ms)
        remaining = limit - len(q)
        reset = (q[0] + self.window_ms) if (q and remaining <= 0) else now_ms
        return granted, limit, remaining, max(reset, now_ms)
