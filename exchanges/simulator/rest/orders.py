"""Order entry and order/execution queries."""

from __future__ import annotations

from .. import wire
from ..instruments import instrument
from ..models import BybitError
from .params import _category, _int, _page, check_numbers, clean_params


def order_create(sim, key, p, units):
    cat = _category(p)
    check_numbers(p)
    o = sim.engine.place_order(key.uid, cat, p)
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def order_amend(sim, key, p, units):
    cat = _category(p)
    check_numbers(p)
    o = sim.engine.amend_order(key.uid, cat, p)
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def order_cancel(sim, key, p, units):
    cat = _category(p)
    o = sim.engine.cancel_order(key.uid, cat, p)
    return {"orderId": o.order_id, "orderLinkId": o.order_link_id}


def order_cancel_all(sim, key, p, units):
    cat = _category(p)
    orders = sim.engine.cancel_all(key.uid, cat, p)
    return {"list": [{"orderId": o.order_id, "orderLinkId": o.order_link_id} for o in orders], "success": "1"}


def batch_units(p) -> int:
    req = p.get("request")
    return len(req) if isinstance(req, list) and req else 1


def _batch(sim, key, p, units, action):
    cat = _category(p)
    req = p.get("request")
    if not isinstance(req, list) or not req:
        raise BybitError(10001, "params error: request is required")
    cap = 10 if cat == "spot" else 20
    if len(req) > cap:
        raise BybitError(10001, f"params error: at most {cap} orders per batch")
    results, infos = [], []
    for i, item in enumerate(req):
        try:
            if not isinstance(item, dict):
                raise BybitError(10001, "params error: each request item must be an object")
            item = clean_params(item)
            if action != "cancel":
                check_numbers(item)
        except BybitError as exc:
            item, bad = {}, exc
        else:
            bad = None
        base = {
            "category": cat,
            "symbol": str(item.get("symbol", "")),
            "orderId": "",
            "orderLinkId": str(item.get("orderLinkId") or ""),
        }
        if i >= units:
            results.append(base | ({"createAt": ""} if action == "create" else {}))
            infos.append({"code": 10006, "msg": "Too many visits!"})
            continue
        try:
            if bad is not None:
                raise bad
            if action == "create":
                o = sim.engine.place_order(key.uid, cat, item)
                results.append(
                    base | {"orderId": o.order_id, "orderLinkId": o.order_link_id, "createAt": str(o.created_ms)}
                )
            elif action == "amend":
                o = sim.engine.amend_order(key.uid, cat, item)
                results.append(base | {"orderId": o.order_id, "orderLinkId": o.order_link_id})
            else:
                o = sim.engine.cancel_order(key.uid, cat, item)
                results.append(base | {"orderId": o.order_id, "orderLinkId": o.order_link_id})
            infos.append({"code": 0, "msg": "OK"})
        except BybitError as exc:
            results.append(base | ({"createAt": ""} if action == "create" else {}))
            infos.append({"code": exc.code, "msg": exc.msg})
    return {"list": results}, {"list": infos}


def order_create_batch(sim, key, p, units):
    return _batch(sim, key, p, units, "create")


def order_amend_batch(sim, key, p, units):
    return _batch(sim, key, p, units, "amend")


def order_cancel_batch(sim, key, p, units):
    return _batch(sim, key, p, units, "cancel")


def _filter_orders(sim, key, p, cat, *, open_only=False):
    """The user's orders of a category matching the filters, newest first (direct lookups when possible)."""
    ex = sim.engine
    sym, oid, link = p.get("symbol"), p.get("orderId"), p.get("orderLinkId")
    base, settle = p.get("baseCoin"), p.get("settleCoin")
    if oid:
        found = ex.orders.get(str(oid))
        orders = [found] if found is not None and found.uid == key.uid else []
    elif link:
        found = ex.by_link.get((key.uid, cat, link))
        orders = [found] if found is not None else []
    elif open_only:
        orders = sorted(ex.open_orders[key.uid].values(), key=lambda o: o.seq)
    else:
        orders = ex.user_orders[key.uid]
    out = []
    for o in reversed(orders):
        if (
            o.category != cat
            or sym
            and o.symbol != sym
            or oid
            and o.order_id != oid
            or link
            and o.order_link_id != link
        ):
            continue
        inst = instrument(cat, o.symbol)
        if base and inst.base_coin != base or settle and inst.quote_coin != settle:
            continue
        out.append(o)
    return out


def order_realtime(sim, key, p, units):
    cat = _category(p)
    if cat == "linear" and not (
        p.get("symbol") or p.get("baseCoin") or p.get("settleCoin") or p.get("orderId") or p.get("orderLinkId")
    ):
        raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
    by_id = bool(p.get("orderId") or p.get("orderLinkId"))
    closed = str(p.get("openOnly", "0")) == "1"
    orders = _filter_orders(sim, key, p, cat, open_only=not by_id and not closed)
    if not by_id:
        if closed:
            orders = [o for o in orders if not o.is_open][:500]
        else:
            orders = [o for o in orders if o.is_open]
    page, nxt = _page(orders, p, default=20, maximum=50)
    return {"category": cat, "list": [wire.order(o) for o in page], "nextPageCursor": nxt}


def order_history(sim, key, p, units):
    cat = _category(p)
    orders = _filter_orders(sim, key, p, cat)
    status = p.get("orderStatus")
    if status:
        orders = [o for o in orders if o.status == status]
    start, end = _int(p, "startTime", 0, 0, 2**62), _int(p, "endTime", 0, 0, 2**62)
    if start:
        orders = [o for o in orders if o.created_ms >= start]
    if end:
        orders = [o for o in orders if o.created_ms <= end]
    page, nxt = _page(orders, p, default=20, maximum=50)
    return {"category": cat, "list": [wire.order(o) for o in page], "nextPageCursor": nxt}


def execution_list(sim, key, p, units):
    cat = _category(p)
    sym, oid, link, etype = p.get("symbol"), p.get("orderId"), p.get("orderLinkId"), p.get("execType")
    start, end = _int(p, "startTime", 0, 0, 2**62), _int(p, "endTime", 0, 0, 2**62)
    out = [
        e
        for e in reversed(sim.engine.executions[key.uid])
        if e.category == cat
        and not (sym and e.symbol != sym)
        and not (oid and e.order_id != oid)
        and not (link and e.order_link_id != link)
        and not (etype and e.exec_type != etype)
        and not (start and e.exec_time < start)
        and not (end and e.exec_time > end)
    ]
    page, nxt = _page(out, p, default=50, maximum=100)
    return {"category": cat, "list": [wire.execution(e) for e in page], "nextPageCursor": nxt}
