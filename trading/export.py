"""CSV export of a trade selection, streamed in keyset-ordered chunks.

The rows are read CHUNK rows at a time by (-executed_at, -id) from the index, never the whole
selection at once. Under ASGI (daphne) the generator is asynchronous, so Django streams it
instead of collecting it into a list; under WSGI Django iterates it the same way.

The first chunk is read before the response is answered: once the 200 and its headers are
sent, a failure could only cut the download short (the browser waits on a broken file), so
whatever the database refuses about this selection must surface while a 4xx is still
possible. The filters are validated before that (trading/filters.py)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db.models import Q
from django.http import StreamingHttpResponse

CHUNK = 2000
# The venue columns come last, so a sheet that reads the earlier ones by position keeps working;
# they are annotations of the selection (trading.selectors.user_trades).
COLUMNS = ("id", "bot_id", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at",
           "venue_code", "venue_name")
HEADER = ("id", "bot", "symbol", "side", "price", "qty", "fee", "fee_coin", "realized_pnl", "executed_at",
          "venue", "venue_name")


def _plain(value) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _csv_line(row) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue()


def _chunk(queryset, after):
    qs = queryset
    if after is not None:
        executed_at, pk = after
        qs = qs.filter(Q(executed_at__lte=executed_at) & (Q(executed_at__lt=executed_at) | Q(id__lt=pk)))
    return list(qs.order_by("-executed_at", "-id").values_list(*COLUMNS)[:CHUNK])


def _rows_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_plain(v) for v in row])
    return out.getvalue()


async def trade_csv_rows(queryset, first: list | None = None):
    """Async generator of CSV lines (header first) for every trade of `queryset`; `first` is
    the first chunk when the caller has already read it."""
    yield _csv_line(HEADER)
    after = None
    fetch = sync_to_async(_chunk)
    while True:
        if first is not None:
            rows, first = first, None
        else:
            rows = await fetch(queryset, after)
        if not rows:
            return
        yield _rows_csv(rows)
        if len(rows) < CHUNK:
            return
        last = rows[-1]
        after = (last[COLUMNS.index("executed_at")], last[0])


def trade_csv_response(queryset, *, filename: str = "trades.csv") -> StreamingHttpResponse:
    first = _chunk(queryset, None)  # a query the database refuses fails here, before the 200
    response = StreamingHttpResponse(trade_csv_rows(queryset, first), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
