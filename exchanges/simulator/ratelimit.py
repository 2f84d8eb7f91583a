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
    def __init__(self):
        self.hits: dict[tuple, deque] = defaultdict(deque)

    @staticmethod
    def limit_for(path: str, category: str | None) -> int:
        table = LIMITS.get(path)
        if table is None:
            return DEFAULT_LIMIT
        return table.get(category or "*", table.get("*", DEFAULT_LIMIT))

    def take(
        self, uid: int, path: str, category: str | None, units: int, now_ms: int, multiplier: int = 1
    ) -> tuple[int, int, int, int]:
        """Consume up to `units`; return (granted, limit, remaining, reset_ms). reset_ms is never in the past."""
        limit = self.limit_for(path, category) * max(1, int(multiplier))
        q = self.hits[(uid, path, category)]
        while q and q[0] <= now_ms - WINDOW_MS:
            q.popleft()
        granted = max(0, min(units, limit - len(q)))
        for _ in range(granted):
            q.append(now_ms)
        remaining = limit - len(q)
        reset = (q[0] + WINDOW_MS) if (q and remaining <= 0) else now_ms
        return granted, limit, remaining, max(reset, now_ms)
