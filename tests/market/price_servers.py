"""Local stand-ins for the price providers: Yahoo's chart API and Stooq's CSV download.

* :class:`FakeYahoo` serves ``/v8/finance/chart/{SYMBOL}`` either as recorded (the chart JSON
  in ../shared/fixtures/prices/yahoo, whatever the period asked) or built from a daily series
  (:func:`series_from_csv`, from the recorded CSVs) as Yahoo would answer on the simulated day
  ``today``: only days before it inside ``period1``/``period2``, prices adjusted for the splits
  that happened by then, and those splits in ``events.splits``. Unknown symbols get Yahoo's
  recorded 404 error body. ``faults`` scripts answers (429, …) served before the real one.
* :class:`FakeStooq` serves ``/q/d/l/?s=…&i=d`` from Stooq-layout CSV bodies and, like Stooq
  since 2026, demands ``apikey``; ``mode`` makes it answer as Stooq does when a quota is used
  up or its browser check kicks in (HTTP 200 with a text or HTML body). Stooq's exact wording
  for a missing key is not recorded; the message here names ``apikey`` as Stooq's does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import parse_qs, unquote
from zoneinfo import ZoneInfo

import polars as pl
from werkzeug.wrappers import Request, Response

NEW_YORK = ZoneInfo("America/New_York")
QUOTE = ("open", "high", "low", "close", "volume")


def session_stamp(day: date) -> int:
    """Yahoo's stamp of a daily bar: the session's open, 09:30 in New York."""
    return int(datetime.combine(day, time(9, 30), tzinfo=NEW_YORK).timestamp())


def day_of(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, NEW_YORK).date()


def chart_body(symbol: str, rows: list[dict], splits: list[tuple[date, float]] = ()) -> bytes:
    """A chart JSON body in Yahoo's shape for ``rows`` (date, open, high, low, close,
    adj_close, volume) and ``splits`` (date, ratio)."""
    result = {
        "meta": {
            "currency": "USD",
            "symbol": symbol,
            "exchangeTimezoneName": "America/New_York",
            "gmtoffset": -14400,
            "dataGranularity": "1d",
        },
        "timestamp": [session_stamp(row["date"]) for row in rows],
        "indicators": {
            "quote": [{name: [row[name] for row in rows] for name in QUOTE}],
            "adjclose": [{"adjclose": [row["adj_close"] for row in rows]}],
        },
    }
    if not rows:
        del result["timestamp"]
        result["indicators"] = {"quote": [{}], "adjclose": [{}]}
    if splits:
        result["events"] = {
            "splits": {
                str(session_stamp(day)): {
                    "date": session_stamp(day),
                    "numerator": ratio,
                    "denominator": 1,
                    "splitRatio": f"{ratio:g}:1",
                }
                for day, ratio in splits
            }
        }
    return json.dumps({"chart": {"result": [result], "error": None}}).encode()


@dataclass
class Series:
    """A daily series as traded (not adjusted for later splits) and its splits."""

    rows: list[dict]
    splits: list[tuple[date, float]] = field(default_factory=list)


def series_from_csv(
    path: Path,
    splits: list[tuple[date, float]] = (),
    first: date | None = None,
    last: date | None = None,
) -> Series:
    """The recorded yfinance export at ``path`` (adjusted for every split up to its
    recording) turned back into prices as traded, given the ticker's ``splits``."""
    from pipelines.market.price_csv import parse_price_csv

    frame = parse_price_csv(path.read_bytes(), "X", "file")
    if first is not None:
        frame = frame.filter(pl.col("date") >= first)
    if last is not None:
        frame = frame.filter(pl.col("date") <= last)
    rows = []
    for row in frame.iter_rows(named=True):
        factor = 1.0
        for day, ratio in splits:
            if day > row["date"]:
                factor *= ratio
        prices = {c: row[c] * factor for c in ("open", "high", "low", "close", "adj_close")}
        rows.append({"date": row["date"], **prices, "volume": int(row["volume"] / factor)})
    return Series(rows, list(splits))


class FakeYahoo:
    """Yahoo's chart endpoint on a local server (see the module docstring)."""

    def __init__(self, recorded_dir: Path):
        self.recorded_dir = recorded_dir
        self.recorded: dict[str, bytes] = {}
        self.series: dict[str, Series] = {}
        self.faults: dict[str, list[tuple[int, dict, bytes]]] = {}
        self.today = date(2026, 3, 17)
        self.requests: list[tuple[str, dict]] = []

    def answer(self, symbol: str, query: dict) -> Response:
        if symbol in self.recorded:
            return Response(self.recorded[symbol], content_type="application/json")
        if symbol not in self.series:
            body = (self.recorded_dir / "SIX_chart_1d_404_not_found.json").read_bytes()
            return Response(body, status=404, content_type="application/json")
        series = self.series[symbol]
        start, end = int(query["period1"][0]), int(query["period2"][0])
        happened = [(d, r) for d, r in series.splits if d <= self.today]
        rows = []
        for row in series.rows:
            if start <= session_stamp(row["date"]) < end and row["date"] < self.today:
                factor = 1.0
                for day, ratio in happened:
                    if day > row["date"]:
                        factor *= ratio
                adjusted = {c: row[c] / factor for c in ("open", "high", "low", "close")}
                adjusted["adj_close"] = row["adj_close"] / factor
                rows.append({**row, **adjusted, "volume": int(row["volume"] * factor)})
        events = [(d, r) for d, r in happened if start <= session_stamp(d) < end]
        if not rows:  # what Yahoo answers for a range without a trading day
            error = {
                "code": "Bad Request",
                "description": f"Data doesn't exist for startDate = {start}, endDate = {end}",
            }
            body = json.dumps({"chart": {"result": None, "error": error}})
            return Response(body, status=400, content_type="application/json")
        return Response(chart_body(symbol, rows, events), content_type="application/json")

    def __call__(self, request: Request) -> Response:
        symbol = unquote(request.path.rsplit("/", 1)[-1])
        query = parse_qs(request.query_string.decode())
        self.requests.append((symbol, query))
        faults = self.faults.get(symbol)
        if faults:
            status, headers, body = faults.pop(0)
            return Response(body, status=status, headers=headers)
        return self.answer(symbol, query)


def stooq_csv(series: Series, decimals: int = 3) -> bytes:
    """A Stooq-layout CSV of ``series`` as adjusted today (Stooq rounds its prices)."""
    lines = ["Date,Open,High,Low,Close,Volume"]
    for row in series.rows:
        factor = 1.0
        for day, ratio in series.splits:
            if day > row["date"]:
                factor *= ratio
        values = [round(row[c] / factor, decimals) for c in ("open", "high", "low", "close")]
        volume = int(row["volume"] * factor)
        lines.append(f"{row['date']},{','.join(f'{v:g}' for v in values)},{volume}")
    return ("\n".join(lines) + "\n").encode()


class FakeStooq:
    """Stooq's CSV download on a local server, demanding an API key."""

    def __init__(self, bodies: dict[str, bytes], key: str = "s3cret-KEY"):
        self.bodies = bodies  # stooq symbol → CSV body
        self.key = key
        self.mode = "ok"  # or 'quota', 'html'
        self.requests: list[tuple[str, str | None]] = []

    def __call__(self, request: Request) -> Response:
        query = parse_qs(request.query_string.decode())
        symbol = query.get("s", [""])[0]
        key = query.get("apikey", [None])[0]
        self.requests.append((symbol, key))
        if self.mode == "html":
            page = "<!DOCTYPE html><html><body><script>/* proof of work */</script></body></html>"
            return Response(page, content_type="text/html")
        if key != self.key:
            return Response(
                "Access requires an apikey: get yours at stooq.com", content_type="text/plain"
            )
        if self.mode == "quota":
            return Response("Exceeded the daily hits limit", content_type="text/plain")
        if query.get("i") != ["d"] or symbol not in self.bodies:
            return Response("No data", content_type="text/plain")
        return Response(self.bodies[symbol], content_type="text/csv")
