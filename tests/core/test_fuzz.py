"""Fuzz: seeded mutations of recorded SEC, price, feed, news and ECB documents.

Each case mutates one recorded document (truncation, random bytes, deleted keys, wrong types,
400-digit numbers, empty bodies, HTML where JSON or CSV is expected, 50 MB bodies) and feeds it
to the real code that reads that kind of document. It must either read it or fail with its
documented error naming the document; any other exception is a crash. The SEC documents go
through ``company_documents`` and ``company_facts`` (offline, from a raw/ store) exactly as a
company load does; the others through their parsers. Seed: ``CAPEX_FUZZ_SEED`` (printed).
The end-to-end test then serves mutated documents to `capex run`: the company whose document
is broken fails naming the URL, the others land with every row of a clean build.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from pipelines.core.config import load_settings
from pipelines.core.http import FetchError
from pipelines.core.rawstore import RawStore, document_key
from pipelines.core.universe import Company
from pipelines.market.ecb import parse_ecb_rates
from pipelines.market.providers import PriceSourceError, PriceSymbol
from pipelines.market.stooq import stooq_validator
from pipelines.news.article_html import NoArticleBody, extract_article
from pipelines.news.crawler import parse_feed
from pipelines.sec.client import SecClient, company_documents
from pipelines.sec.company_facts import company_facts
from tests.conftest import ROOT, capex_environment, run_capex

SEED = int(os.environ.get("CAPEX_FUZZ_SEED", "1202"))
BIG = 50 * 1024 * 1024
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Error</title></head><body>Busy</body></html>"
NEWS = ROOT / "tests" / "fixtures" / "news"

# --- mutations -------------------------------------------------------------------------------


def _json_paths(node, path=()):
    """Every (container, key) in a JSON tree, to pick one to mutate."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _json_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:50]):
            yield node, index
            yield from _json_paths(value, (*path, index))


def mutate_json(body: bytes, rng: random.Random) -> tuple[str, bytes]:
    """A structural JSON mutation: a deleted key, a value of the wrong type, a huge number."""
    document = json.loads(body)
    slots = list(_json_paths(document))
    container, key = rng.choice(slots)
    kind = rng.choice(["delete", "wrong type", "400 digits"])
    if kind == "delete" and isinstance(container, dict):
        del container[key]
    elif kind == "400 digits":
        container[key] = int("9" * 400)
    else:
        container[key] = rng.choice([None, "text", 7, 1.5, [], {}, [1, "a"], {"x": None}, True])
    return kind, json.dumps(document).encode()


def mutate_bytes(body: bytes, rng: random.Random, *, html_ok: bool = False) -> tuple[str, bytes]:
    """A byte-level mutation of any document."""
    kinds = ["truncate", "random bytes", "insert bytes", "empty", "digits", "drop line"]
    if not html_ok:
        kinds.append("html page")
    kind = rng.choice(kinds)
    if kind == "truncate":
        return kind, body[: rng.randrange(len(body))]
    if kind == "random bytes":
        data = bytearray(body)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return kind, bytes(data)
    if kind == "insert bytes":
        at = rng.randrange(len(body))
        return kind, body[:at] + rng.randbytes(rng.randint(1, 64)) + body[at:]
    if kind == "empty":
        return kind, rng.choice([b"", b" \n", b"\0"])
    if kind == "digits":  # a number of 400 digits where a number was
        digits = [i for i in range(len(body)) if 48 <= body[i] <= 57]
        at = rng.choice(digits) if digits else 0
        return kind, body[:at] + b"9" * 400 + body[at + 1 :]
    if kind == "drop line":
        lines = body.split(b"\n")
        del lines[rng.randrange(len(lines))]
        return kind, b"\n".join(lines)
    return kind, HTML_PAGE


def big(body: bytes) -> bytes:
    """A 50 MB body: the document repeated."""
    return (body * (BIG // max(1, len(body)) + 1))[:BIG]


# --- the recorded documents, trimmed so a case takes milliseconds ------------------------------


def small_instance(path: Path, facts: int = 60) -> bytes:
    """A recorded XBRL instance with its contexts and units and its first ``facts`` facts."""
    root = etree.fromstring(path.read_bytes())
    kept = 0
    for child in list(root):
        is_fact = child.get("contextRef") is not None
        if is_fact:
            kept += 1
            if kept > facts:
                root.remove(child)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def small_companyfacts(path: Path, concepts: int = 12) -> bytes:
    document = json.loads(path.read_bytes())
    for taxonomy, by_concept in document["facts"].items():
        names = list(by_concept)[:concepts]
        document["facts"][taxonomy] = {name: by_concept[name] for name in names}
    return json.dumps(document).encode()


class SecHarness:
    """A raw/ store holding one company's documents, read back by the real company load."""

    CIK = 1045810

    def __init__(self, root: Path, sec_dir: Path):
        self.settings = replace(
            load_settings({}), offline=True, raw_dir=root, sec_data_url="https://data.sec.gov"
        )
        self.store = RawStore(root)
        self.client = SecClient(self.settings, self.store)
        self.company = Company("NVDA", self.CIK, "NVIDIA CORP")
        self.urls = {
            "submissions": self.client.data.url(f"/submissions/CIK{self.CIK:010d}.json"),
            "companyfacts": self.client.data.url(f"/api/xbrl/companyfacts/CIK{self.CIK:010d}.json"),
        }
        self.bodies = {
            "submissions": (sec_dir / "submissions" / f"CIK{self.CIK:010d}.json").read_bytes(),
            "companyfacts": small_companyfacts(
                sec_dir / "companyfacts" / f"CIK{self.CIK:010d}.json"
            ),
        }
        for name in self.bodies:
            self.land(name, self.bodies[name])

    def land(self, name: str, body: bytes) -> None:
        key = document_key("sec-data", self.urls[name])
        shutil.rmtree(self.store.root / key, ignore_errors=True)
        self.store.put(key, self.urls[name], body)

    def load(self) -> int:
        """The company load of the documents raw/ holds: facts rows (since 2100: no filings)."""
        documents = company_documents(self.client, self.company, date(2100, 1, 1))
        return company_facts(documents).height


def _check(case: str, read: Callable[[], object], allowed: tuple, url: str | None) -> str:
    """Run one case; returns 'read' or 'refused', raising AssertionError on a crash."""
    try:
        read()
    except allowed as exc:
        if url is not None and url not in str(exc):
            raise AssertionError(f"{case}: error does not name {url}: {exc}") from exc
        message = str(exc).strip()
        assert message, f"{case}: empty error message ({type(exc).__name__})"
        return "refused"
    except Exception as exc:  # noqa: BLE001 (a crash: reported with the case to replay)
        raise AssertionError(f"{case}: crashed with {type(exc).__name__}: {exc}") from exc
    return "read"


def test_a_thousand_mutated_documents_never_crash(reliability, shared_fixtures, tmp_path):
    print(f"fuzz seeded with CAPEX_FUZZ_SEED={SEED}")
    rng = random.Random(SEED)
    sec = SecHarness(tmp_path / "raw", shared_fixtures / "sec")
    assert sec.load() > 0, "the unmutated documents must load"
    instance = small_instance(
        shared_fixtures / "sec" / "filings" / "TSLA" / "10-Q_2024-06-30" / "tsla-20240630_htm.xml"
    )
    stooq = b"\n".join((shared_fixtures / "prices" / "stooq" / "NVDA.csv").read_bytes()
                       .split(b"\n")[-400:])  # fmt: skip
    stooq = b"Date,Open,High,Low,Close,Volume\n" + stooq
    feeds = [p.read_bytes() for p in sorted((NEWS / "feeds").iterdir())]
    feeds.append((shared_fixtures / "news" / "feeds" / "sec_edgar_current_filings_atom.xml")
                  .read_bytes())  # fmt: skip
    pages = [p.read_bytes() for p in sorted(NEWS.glob("*.html"))]
    ecb = (NEWS / "eurofxref-hist.csv").read_bytes()
    price_symbol = PriceSymbol("NVDA", "nvda.us", ("NVDA",), "company")
    validate_prices = stooq_validator(price_symbol)

    def sec_case(name: str, body: bytes) -> Callable[[], object]:
        def read():
            sec.land(name, body)
            return sec.load()

        return read

    def xbrl_case(body: bytes) -> Callable[[], object]:
        from pipelines.sec.xbrl import parse_xbrl

        return lambda: parse_xbrl(body, url="https://www.sec.gov/Archives/tsla-20240630_htm.xml")

    plan: list[tuple[str, int]] = [("submissions", 170), ("companyfacts", 170), ("xbrl", 170),
                                   ("prices", 170), ("feed", 130), ("news page", 130),
                                   ("ecb", 100)]  # fmt: skip
    fault = f"mutated documents: SEC JSON and XBRL, prices, feeds, news pages, ECB (seed {SEED})"
    holds = "read or refused with one clear error naming the document; never a crash"
    reliability.record(fault, sum(count + 1 for _, count in plan), holds)
    results: dict[str, dict[str, int]] = {}
    cases = 0
    for kind, count in plan:
        for number in range(count + 1):  # the last case of each kind is a 50 MB body
            last = number == count
            if kind in ("submissions", "companyfacts"):
                original = sec.bodies[kind]
                how, body = (
                    ("50 MB", big(original))
                    if last
                    else mutate_json(original, rng)
                    if rng.random() < 0.5
                    else mutate_bytes(original, rng)
                )
                read, allowed, url = sec_case(kind, body), (FetchError,), sec.urls[kind]
            elif kind == "xbrl":
                how, body = ("50 MB", big(instance)) if last else mutate_bytes(instance, rng)
                read, allowed, url = xbrl_case(body), (ValueError,), "tsla-20240630_htm.xml"
            elif kind == "prices":
                how, body = ("50 MB", big(stooq)) if last else mutate_bytes(stooq, rng)
                read = lambda body=body: validate_prices(body, "text/csv")  # noqa: E731
                allowed, url = (ValueError, PriceSourceError), "NVDA"
            elif kind == "feed":
                original = rng.choice(feeds)
                how, body = ("50 MB", big(original)) if last else mutate_bytes(original, rng)
                read = lambda body=body: parse_feed(body, "https://news.example/feed")  # noqa: E731
                allowed, url = (), None
            elif kind == "news page":
                original = rng.choice(pages)
                how, body = (
                    ("50 MB", big(original)) if last else mutate_bytes(original, rng, html_ok=True)
                )
                read = lambda body=body: extract_article(body, "https://news.example/a")  # noqa: E731
                allowed, url = (NoArticleBody,), None
            else:
                how, body = ("50 MB", big(ecb)) if last else mutate_bytes(ecb, rng)
                read, allowed, url = (lambda body=body: parse_ecb_rates(body)), (ValueError,), None
            began = time.monotonic()
            outcome = _check(f"{kind} case {number} ({how}, seed {SEED})", read, allowed, url)
            tally = results.setdefault(kind, {"read": 0, "refused": 0, "seconds": 0.0})
            tally[outcome] += 1
            tally["seconds"] += time.monotonic() - began
            if last:
                tally["50 MB seconds"] = round(time.monotonic() - began, 1)
            cases += 1
        if kind in sec.bodies:
            sec.land(kind, sec.bodies[kind])  # the next kind mutates the other document
    print({kind: {k: round(v, 2) for k, v in tally.items()} for kind, tally in results.items()})
    # the unmutated documents still load: nothing of a refused case stayed behind
    for name, body in sec.bodies.items():
        sec.land(name, body)
    assert sec.load() > 0
    assert cases >= 1000
    # every kind that can refuse a document did (the feed parser never raises: it says "no feed")
    assert all(tally["refused"] > 0 for k, tally in results.items() if k != "feed"), results


def _facts(warehouse: Path, ticker: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT * EXCLUDE (dimensions) FROM staging.facts WHERE ticker = ? ORDER BY ALL",
            [ticker],
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("seed", [SEED])
def test_mutated_documents_end_to_end_fail_their_company_only(
    reliability, fake_sec, built_warehouse, tmp_path, seed
):
    """NVIDIA's companyfacts with a value of the wrong type and Apple's 10-Q cut short: each
    fails its own company, naming the URL; Tesla lands with every row of a clean build."""
    reliability.record(
        "mutated documents served to `capex run`",
        2,
        "the broken companies fail naming the URL; the others land with no row lost",
    )
    rng = random.Random(seed)
    nvda = "/api/xbrl/companyfacts/CIK0001045810.json"
    aapl = "/Archives/edgar/data/320193/000032019324000081/aapl-20240629.htm"
    facts = json.loads(fake_sec.route(nvda))
    concept = rng.choice(sorted(facts["facts"]["us-gaap"]))
    facts["facts"]["us-gaap"][concept]["units"] = ["not", "a", "mapping"]
    document = fake_sec.route(aapl)
    fake_sec.extra[nvda] = json.dumps(facts).encode()
    fake_sec.extra[aapl] = document[: rng.randrange(len(document) // 4, len(document) // 2)]
    try:
        env = capex_environment(fake_sec, tmp_path, CAPEX_TICKERS="NVDA,AAPL,TSLA")
        result = run_capex(env, "run")
    finally:
        del fake_sec.extra[nvda], fake_sec.extra[aapl]
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{fake_sec.base_url}{nvda}: not a companyfacts document" in result.stdout
    assert f"at facts.us-gaap.{concept}.units)" in result.stdout
    assert f"{fake_sec.base_url}{aapl}" in result.stdout
    warehouse = tmp_path / "warehouse" / "capex.duckdb"
    assert _facts(warehouse, "NVDA") == [] and _facts(warehouse, "AAPL") == []
    assert _facts(warehouse, "TSLA") == _facts(built_warehouse, "TSLA")
