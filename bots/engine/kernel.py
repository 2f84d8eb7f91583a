"""The backtest kernel: the planner's semantics (planner.plan_tick with every fill complete)
compiled with numba, in whole integers so that every figure is exact.

Units (chosen per configuration by backtest.KernelSpec):
- prices in ticks of the instrument;
- quantities in "fine" units = qty_step / FD, where FD = 10^d is the common denominator of the
  maker and taker fee rates (so a base fee q·f is a whole number of fine units);
- money in M = tick · qty_step / FD (so q·p and q·p·f are whole numbers of M).

The path, the fill rule and the plan are those of the simulator and the live tick:
- the price walks the path points one after another (candles.PricePath); at every point the
  resting buys at or above it fill (highest line first), then the resting sells at or below it
  (lowest line first), each completely at its own price, paying the maker fee (spot buys in
  base, everything else in quote);
- after every point: the targets (take profit / stop loss by price, PnL, ROI) are checked on
  the total PnL at that price; a hit cancels everything, runs the stop action (sell the base /
  close the position at market, taker fee) and ends the run; otherwise, when something filled,
  the plan of plan_tick places the counter orders (same quantities, same rounding, same
  minimums, the same sequence numbers).
Anything the kernel cannot do exactly (an integer that could overflow, more open orders on one
line than it keeps) ends the run with a status the caller turns into the reference path.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# summary slots returned by run_grid
S_STATUS = 0  # 0 ok, 1 fill buffer full, 2 too many orders on one line, 3 integer range
S_FILLS = 1
S_QUOTE = 2  # spot: quote held (M); linear: cash change (M)
S_BASE = 3  # spot: base held; linear: signed position (fine units)
S_FEE_QUOTE = 4  # fees charged in quote (M)
S_FEE_BASE = 5  # fees charged in base (fine units)
S_STOP = 6  # 0 none; 1 sl price, 2 sl pnl, 3 sl roi, 4 tp price, 5 tp pnl, 6 tp roi
S_END = 7  # last point processed
S_EQUITY = 8  # equity at the last point (M)
S_MIN_EQUITY = 9  # lowest equity at a candle close (M)
S_MAX_DRAWDOWN = 10  # largest fall from a running peak at candle closes (M)
S_GRID_FILLS = 11
S_SELLS = 12  # grid sells filled (spot: upper legs of cycles)
S_BUYS = 13
S_FEE_BASE_VALUE = 14  # base fees valued at their fill price (M)
SUMMARY = 16

# parameter slots (int64 per configuration)
P_N = 0
P_SPOT = 1
P_INIT_SIDE = 2  # +1 market buy at launch, -1 market sell, 0 none
P_INIT_QTY = 3  # steps
P_FD = 4
P_MAKER = 5  # fee numerators over FD
P_TAKER = 6
P_MAKER_BASE = 7  # maker numerator on spot buys (fee in base), 0 on linear
P_MAX_Q = 8  # steps
P_START = 9  # launch point
P_INVEST = 10  # M
P_ON_STOP = 11  # 0 keep, 1 sell base (spot), 2 close position (linear)
P_MIN_QTY = 12  # steps (stop's sell)
P_MIN_NOTIONAL = 13  # ceil(min_notional / (tick·step)): q·p in ticks·steps must reach it
P_SL_PRICE = 14
P_SL_DIR = 15  # 0 none, 1 hit when price <= , 2 hit when price >=
P_TP_PRICE = 16
P_TP_DIR = 17
P_SL_PNL = 18  # hit when pnl_M <= value
P_HAS_SL_PNL = 19
P_SL_ROI = 20
P_HAS_SL_ROI = 21
P_TP_PNL = 22  # hit when pnl_M >= value
P_HAS_TP_PNL = 23
P_TP_ROI = 24
P_HAS_TP_ROI = 25
P_PNL_TARGETS = 26
P_Q = 27  # launch quantity per grid (steps)
P_EMPTY = 28  # the launch's empty line
P_BASE_LIMIT = 29  # |base| stays below this so that base × any price < LIMIT
PARAMS = 32

# fill record columns
F_POINT, F_LINE, F_SIDE, F_QTY, F_SEQ, F_KIND, F_PRICE = 0, 1, 2, 3, 4, 5, 6
FILL_COLS = 7
KIND_GRID, KIND_INITIAL, KIND_CLOSE = 0, 1, 2
BUY, SELL = 0, 1

SLOTS = 8  # open orders kept per (line, side); the plan never needs more than one
LIMIT = 1 << 61  # money and quantities stay below this (sums of two never overflow int64)


@njit(cache=True)
def _record(fills, nf, point, line, side, qty, seq, kind, price):
    if nf < fills.shape[0]:
        fills[nf, F_POINT] = point
        fills[nf, F_LINE] = line
        fills[nf, F_SIDE] = side
        fills[nf, F_QTY] = qty
        fills[nf, F_SEQ] = seq
        fills[nf, F_KIND] = kind
        fills[nf, F_PRICE] = price
    return nf + 1


@njit(cache=True)
def _place(cnt, oqty, oseq, nseq, line, side, q):
    c = cnt[line, side]
    if c >= SLOTS:
        return False
    oqty[line, side, c] = q
    oseq[line, side, c] = nseq[line, side]
    nseq[line, side] += 1
    cnt[line, side] = c + 1
    return True


@njit(cache=True)
def run_grid(path, levels, minq, p, fills, curve, out, cnt, oqty, oseq):  # noqa: C901 - one loop on purpose
    """Run one configuration over `path` from its launch point. `fills` (k x FILL_COLS) receives
    the fills when it has rows; `curve` (one per candle) the equity at each candle close when it
    has length; `out` (SUMMARY) the summary; cnt/oqty/oseq ((N+1) x 2 [x SLOTS], zeroed) the
    orders left open at the end. Returns nothing: everything is in the arrays passed."""
    n = p[P_N]
    spot = p[P_SPOT] == 1
    fd = p[P_FD]
    am = p[P_MAKER]
    at = p[P_TAKER]
    amb = p[P_MAKER_BASE]
    maxq = p[P_MAX_Q]
    start = p[P_START]
    invest = p[P_INVEST]
    q = p[P_Q]
    empty = p[P_EMPTY]
    npts = path.shape[0]
    record = fills.shape[0] > 0
    keep_curve = curve.shape[0] > 0

    ib = np.zeros(n, np.int64)
    is_ = np.zeros(n, np.int64)
    g = np.zeros(n, np.int64)
    feeb = np.zeros(n, np.int64)
    bc = np.zeros(n, np.int64)
    sf = np.zeros(n, np.int64)
    sc = np.zeros(n, np.int64)
    sopen = np.zeros(n, np.int64)
    nseq = np.ones((n + 1, 2), np.int64)  # seq 0 is the launch ladder's
    touched = np.zeros(n + 1, np.int64)  # intervals that filled at this point
    full_scan = False

    status = 0
    nf = 0
    quote = invest if spot else 0  # spot: quote held; linear: cash change
    base = 0  # spot: base held; linear: signed position (fine)
    fee_q = 0
    fee_b = 0
    fee_bv = 0
    sells = 0
    buys = 0

    # --- launch: the market order at the launch point, then the ladder -----------------------
    p0 = path[start]
    side0 = p[P_INIT_SIDE]
    q0 = p[P_INIT_QTY]
    if side0 != 0 and q0 > 0:
        if spot:  # a market buy: fee in base
            base += q0 * fd - q0 * at
            fee_b += q0 * at
            fee_bv += q0 * at * p0
            quote -= q0 * p0 * fd
        else:
            base += side0 * q0 * fd
            quote -= side0 * q0 * p0 * fd + q0 * p0 * at
            fee_q += q0 * p0 * at
        if record:
            nf = _record(fills, nf, start, -1, BUY if side0 > 0 else SELL, q0, 0, KIND_INITIAL, p0)
        else:
            nf += 1
    for j in range(empty):
        ib[j] = q * fd
        bc[j] = q * fd
        cnt[j, BUY] = 1
        oqty[j, BUY, 0] = q
    for j in range(empty + 1, n + 1):
        is_[j - 1] = q * fd
        sc[j - 1] = q * fd
        sopen[j - 1] = q * fd
        cnt[j, SELL] = 1
        oqty[j, SELL, 0] = q
    top_buy = empty - 1  # highest line holding a buy (-1: none)
    low_sell = empty + 1  # lowest line holding a sell (n + 1: none)
    if low_sell > n:
        low_sell = n + 1

    stop = 0
    end = start
    c0 = start // 4
    if keep_curve:
        for c in range(c0):
            curve[c] = invest
    peak = invest
    min_eq = invest
    max_dd = 0
    price = p0
    pnl_targets = p[P_PNL_TARGETS] == 1
    sl_dir = p[P_SL_DIR]
    tp_dir = p[P_TP_DIR]
    any_targets = sl_dir != 0 or tp_dir != 0 or pnl_targets
    big = np.int64(1) << 62
    buy_px = levels[top_buy] if top_buy >= 0 else -big  # the price that fills something
    sell_px = levels[low_sell] if low_sell <= n else big
    # the launch point may close a candle: its equity is that candle's
    for i in range(start, npts):
        if i > start:
            price = path[i]
            filled = False
            nt = 0
            # buys at or above the price, highest line first
            while price <= buy_px:
                j = top_buy
                lp = levels[j]
                for s in range(cnt[j, BUY]):
                    qq = oqty[j, BUY, s]
                    g[j] += qq * fd
                    if spot:
                        fb = qq * amb
                        feeb[j] += fb
                        fee_b += fb
                        fee_bv += fb * lp
                        base += qq * fd - fb
                        quote -= qq * lp * fd
                    else:
                        base += qq * fd
                        quote -= qq * lp * fd + qq * lp * am
                        fee_q += qq * lp * am
                    if record:
                        nf = _record(fills, nf, i, j, BUY, qq, oseq[j, BUY, s], KIND_GRID, lp)
                    else:
                        nf += 1
                    buys += 1
                touched[nt] = j
                nt += 1
                cnt[j, BUY] = 0
                filled = True
                top_buy = j - 1
                while top_buy >= 0 and cnt[top_buy, BUY] == 0:
                    top_buy -= 1
                buy_px = levels[top_buy] if top_buy >= 0 else -big
            # sells at or below the price, lowest line first
            while price >= sell_px:
                j = low_sell
                lp = levels[j]
                for s in range(cnt[j, SELL]):
                    qq = oqty[j, SELL, s]
                    sf[j - 1] += qq * fd
                    sopen[j - 1] -= qq * fd
                    base -= qq * fd
                    quote += qq * lp * fd - qq * lp * am
                    fee_q += qq * lp * am
                    if record:
                        nf = _record(fills, nf, i, j, SELL, qq, oseq[j, SELL, s], KIND_GRID, lp)
                    else:
                        nf += 1
                    sells += 1
                touched[nt] = j - 1
                nt += 1
                cnt[j, SELL] = 0
                filled = True
                low_sell = j + 1
                while low_sell <= n and cnt[low_sell, SELL] == 0:
                    low_sell += 1
                sell_px = levels[low_sell] if low_sell <= n else big
            if filled:
                if quote >= LIMIT or quote <= -LIMIT or base >= p[P_BASE_LIMIT] or base <= -p[P_BASE_LIMIT]:
                    status = 3
                    end = i
                    break

            # targets, on the total PnL at this price (stop losses first)
            if any_targets:
                pnl = (quote + base * price - invest) if spot else (quote + base * price)
                hit = 0
                if (sl_dir == 1 and price <= p[P_SL_PRICE]) or (sl_dir == 2 and price >= p[P_SL_PRICE]):
                    hit = 1
                elif p[P_HAS_SL_PNL] == 1 and pnl <= p[P_SL_PNL]:
                    hit = 2
                elif p[P_HAS_SL_ROI] == 1 and pnl <= p[P_SL_ROI]:
                    hit = 3
                elif (tp_dir == 1 and price <= p[P_TP_PRICE]) or (tp_dir == 2 and price >= p[P_TP_PRICE]):
                    hit = 4
                elif p[P_HAS_TP_PNL] == 1 and pnl >= p[P_TP_PNL]:
                    hit = 5
                elif p[P_HAS_TP_ROI] == 1 and pnl >= p[P_TP_ROI]:
                    hit = 6
                if hit != 0:
                    stop = hit
                    end = i
                    cnt[:, :] = 0
                    on_stop = p[P_ON_STOP]
                    if spot and on_stop == 1 and base != 0:
                        qs = base // fd
                        if qs > maxq:
                            qs = maxq
                        if qs > 0 and qs >= p[P_MIN_QTY] and qs * price >= p[P_MIN_NOTIONAL]:
                            base -= qs * fd
                            quote += qs * price * fd - qs * price * at
                            fee_q += qs * price * at
                            if record:
                                nf = _record(fills, nf, i, -1, SELL, qs, 0, KIND_CLOSE, price)
                            else:
                                nf += 1
                    elif (not spot) and on_stop == 2 and base != 0:
                        qs = (base if base > 0 else -base) // fd
                        sgn = -1 if base > 0 else 1
                        base = 0
                        quote -= sgn * qs * price * fd + qs * price * at
                        fee_q += qs * price * at
                        if record:
                            nf = _record(fills, nf, i, -1, BUY if sgn > 0 else SELL, qs, 0, KIND_CLOSE, price)
                        else:
                            nf += 1
                    break

            if filled:
                # the plan: what plan_tick places after these fills. Between ticks every
                # interval owes less than its minimum (or it would have been placed), and only
                # fills change what an interval owes, so only the intervals that filled can
                # place anything; after a placement capped at max_qty, all are looked at.
                if full_scan:
                    nt = n
                    for k in range(n):
                        touched[k] = k
                for t in range(nt):
                    k = touched[t]
                    bn = g[k] - feeb[k]
                    owed = is_[k] + bn - sc[k]
                    if owed > 0:
                        qs = owed // fd
                        if qs > maxq:
                            qs = maxq
                            full_scan = True
                        if qs > 0 and qs >= minq[k + 1]:
                            if not _place(cnt, oqty, oseq, nseq, k + 1, SELL, qs):
                                status = 2
                            sc[k] += qs * fd
                            sopen[k] += qs * fd
                            if k + 1 < low_sell:
                                low_sell = k + 1
                    unsold = is_[k] + bn - sf[k]
                    if sopen[k] == 0 and unsold < fd:
                        owed = ib[k] + is_[k] + g[k] - bc[k]
                        qs = owed // fd if owed > 0 else 0
                    else:
                        fi = sf[k] if sf[k] < is_[k] else is_[k]
                        fbuy = sf[k] - fi
                        rest = ib[k] + fi - bc[k]
                        if fbuy > 0 and bn > 0:
                            num = rest * (fd - amb) + fbuy * fd
                            qs = num // ((fd - amb) * fd) if num > 0 else 0
                        else:
                            qs = rest // fd if rest > 0 else 0
                    if qs > maxq:
                        qs = maxq
                        full_scan = True
                    if qs > 0 and qs >= minq[k]:
                        if not _place(cnt, oqty, oseq, nseq, k, BUY, qs):
                            status = 2
                        bc[k] += qs * fd
                        if k > top_buy:
                            top_buy = k
                if status != 0:
                    end = i
                    break
                buy_px = levels[top_buy] if top_buy >= 0 else -big
                sell_px = levels[low_sell] if low_sell <= n else big
        end = i
        if (i & 3) == 3 or i == npts - 1:
            eq = (quote + base * price) if spot else (invest + quote + base * price)
            if keep_curve:
                curve[i // 4] = eq
            if eq > peak:
                peak = eq
            if eq < min_eq:
                min_eq = eq
            if peak - eq > max_dd:
                max_dd = peak - eq
    if status == 0 and record and nf > fills.shape[0]:
        status = 1
    eq = (quote + base * price) if spot else (invest + quote + base * price)
    if keep_curve and stop != 0:
        curve[end // 4] = eq
    if stop != 0:
        if eq < min_eq:
            min_eq = eq
        if peak - eq > max_dd:
            max_dd = peak - eq
    out[S_STATUS] = status
    out[S_FILLS] = nf
    out[S_QUOTE] = quote
    out[S_BASE] = base
    out[S_FEE_QUOTE] = fee_q
    out[S_FEE_BASE] = fee_b
    out[S_STOP] = stop
    out[S_END] = end
    out[S_EQUITY] = eq
    out[S_MIN_EQUITY] = min_eq
    out[S_MAX_DRAWDOWN] = max_dd
    out[S_GRID_FILLS] = buys + sells
    out[S_SELLS] = sells
    out[S_BUYS] = buys
    out[S_FEE_BASE_VALUE] = fee_bv


@njit(cache=True, parallel=True)
def run_many(path, levels, minq, params, out):
    """One run_grid per row of `params` (levels/minq padded per row), in parallel, without
    recording fills or curves."""
    m = params.shape[0]
    for r in prange(m):
        n = params[r, P_N]
        no_fills = np.zeros((0, FILL_COLS), np.int64)
        no_curve = np.zeros(0, np.int64)
        cnt = np.zeros((n + 1, 2), np.int64)
        oqty = np.zeros((n + 1, 2, SLOTS), np.int64)
        oseq = np.zeros((n + 1, 2, SLOTS), np.int64)
        run_grid(path, levels[r, : n + 1], minq[r, : n + 1], params[r], no_fills, no_curve, out[r], cnt, oqty, oseq)


def order_arrays(n: int):
    """Zeroed (cnt, oqty, oseq) for a grid of n intervals."""
    return (
        np.zeros((n + 1, 2), np.int64),
        np.zeros((n + 1, 2, SLOTS), np.int64),
        np.zeros((n + 1, 2, SLOTS), np.int64),
    )


def warm_up() -> None:
    """Compile (or load from the cache) both entry points on a tiny input."""
    path = np.array([100, 101, 99, 100, 100, 102, 98, 100], dtype=np.int64)
    levels = np.array([98, 100, 102], dtype=np.int64)
    minq = np.ones(3, dtype=np.int64)
    p = np.zeros(PARAMS, dtype=np.int64)
    p[P_N], p[P_SPOT], p[P_FD], p[P_MAX_Q], p[P_Q], p[P_EMPTY], p[P_INVEST] = 2, 1, 1000, 100, 1, 1, 10**9
    p[P_BASE_LIMIT] = LIMIT // 1000
    out = np.zeros(SUMMARY, dtype=np.int64)
    run_grid(path, levels, minq, p, np.zeros((4, FILL_COLS), np.int64), np.zeros(2, np.int64), out, *order_arrays(2))
    run_many(path, levels.reshape(1, -1), minq.reshape(1, -1), p.reshape(1, -1), out.reshape(1, -1))


def numba_threads() -> int:
    """Threads the parallel sweep runs on (NUMBA_NUM_THREADS, default: every core)."""
    import numba

    return numba.get_num_threads()
