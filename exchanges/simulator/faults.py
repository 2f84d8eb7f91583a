"""Injected faults: latency, HTTP 5xx, timeout after accept, forced 10006, WebSocket drops/delays/disconnects."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("latency", "http_error", "timeout_after_accept", "rate_limit", "ws_drop", "ws_delay", "ws_disconnect")


@dataclass
class Fault:
    kind: str
    count: int | None = None  # None = until cleared
    path: str | None = None  # only requests to this path (REST) / messages of this topic (WS)
    params: dict = field(default_factory=dict)

    def matches(self, path_or_topic: str) -> bool:
        return self.path is None or path_or_topic == self.path or path_or_topic.startswith(self.path + ".")

    def to_json(self) -> dict:
        return {"kind": self.kind, "count": self.count, "path": self.path, **self.params}


class Faults:
    def __init__(self):
        self.active: list[Fault] = []

    def add(self, kind: str, *, count=None, path=None, **params) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        f = Fault(kind, None if count is None else int(count), path, params)
        self.active.append(f)
        return f

    def clear(self) -> None:
        self.active.clear()

    def take(self, kind: str, target: str) -> Fault | None:
        """The first matching fault of `kind`, consuming one of its uses."""
        for f in self.active:
            if f.kind == kind and f.matches(target):
                if f.count is not None:
                    f.count -= 1
                    if f.count <= 0:
                        self.active.remove(f)
                return f
        return None
