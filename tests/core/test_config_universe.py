"""Settings from the environment and the company universe."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.core.config import ConfigError, load_settings
from pipelines.core.rawstore import RawStore, document_key
from pipelines.core.universe import Company, resolve_universe, seed_companies
from pipelines.sec.client import xbrl_document_name


def test_default_universe_is_the_seven():
    assert {t: c.cik for t, c in seed_companies().items()} == {
        "AAPL": 320193,
        "MSFT": 789019,
        "GOOGL": 1652044,
        "AMZN": 1018724,
        "META": 1326801,
        "NVDA": 1045810,
        "TSLA": 1318605,
    }


def test_tickers_pick_a_subset_in_the_order_given():
    settings = load_settings({"CAPEX_TICKERS": "nvda, AAPL,NVDA"})
    assert [c.ticker for c in resolve_universe(settings)] == ["NVDA", "AAPL"]


def test_unknown_ticker_is_resolved_through_sec_once():
    calls = []

    def sec_tickers():
        calls.append(1)
        return {"AVGO": Company("AVGO", 1730168, "Broadcom Inc.")}

    settings = load_settings({"CAPEX_TICKERS": "AVGO,MSFT"})
    assert [c.cik for c in resolve_universe(settings, sec_tickers)] == [1730168, 789019]
    assert calls == [1]
    with pytest.raises(ConfigError, match="unknown ticker.*NOPE"):
        resolve_universe(load_settings({"CAPEX_TICKERS": "NOPE"}), sec_tickers)


def test_settings_defaults_and_errors():
    settings = load_settings({})
    assert settings.since == date(2019, 1, 1)
    assert settings.sec_data_url == "https://data.sec.gov"
    assert settings.sec_www_url == "https://www.sec.gov"
    assert str(settings.warehouse) == "warehouse/capex.duckdb"
    assert str(settings.build_warehouse) == "warehouse/.build/capex.duckdb"
    assert not settings.offline and settings.sec_requests_per_second == 8
    with pytest.raises(ConfigError, match="CAPEX_SINCE='2019/01/01' is not a date"):
        load_settings({"CAPEX_SINCE": "2019/01/01"})
    with pytest.raises(ConfigError, match="CAPEX_SEC_RATE=12 is out of range.*SEC's limit"):
        load_settings({"CAPEX_SEC_RATE": "12"})


def test_threads_per_process_setting():
    assert load_settings({}).threads is None
    assert load_settings({"CAPEX_THREADS": " 2 "}).threads == 2
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(ConfigError, match=f"CAPEX_THREADS='{bad}' must be a whole number"):
            load_settings({"CAPEX_THREADS": bad})


def test_document_keys_ignore_the_host():
    local = document_key("sec-data", "http://127.0.0.1:5000/submissions/CIK0000320193.json")
    live = document_key("sec-data", "https://data.sec.gov/submissions/CIK0000320193.json")
    assert local == live == "sec-data/submissions/CIK0000320193.json"
    assert document_key("prices", "https://stooq.com/q/d/l/?s=nvda.us&i=d") == (
        "prices/q/d/l/q_s=nvda.us_i=d"
    )


def test_raw_store_never_rewrites_and_skips_identical_bodies(tmp_path):
    store = RawStore(tmp_path)
    first = store.put("k", "u", b"one")
    assert store.put("k", "u", b"one") == first
    second = store.put("k", "u", b"two")
    assert [v.read() for v in store.versions("k")] == [b"one", b"two"]
    assert first.path.read_bytes() == b"one" and store.latest("k") == second


@pytest.mark.parametrize(
    ("names", "primary", "expected"),
    [
        (
            ["aapl-20240928.htm", "aapl-20240928_htm.xml", "aapl-20240928_cal.xml"],
            "aapl-20240928.htm",
            "aapl-20240928_htm.xml",
        ),
        (
            ["nvda-20250126.htm", "FilingSummary.xml", "R1.htm"],
            "nvda-20250126.htm",
            "nvda-20250126.htm",
        ),
        # before inline XBRL: a plain instance beside linkbases and rendered R pages
        (
            [
                "nvda-20190127.xml",
                "nvda-20190127_lab.xml",
                "R1.xml",
                "FilingSummary.xml",
                "q4fy19form10-k.htm",
            ],
            "q4fy19form10-k.htm",
            "nvda-20190127.xml",
        ),
    ],
)
def test_xbrl_document_choice(names, primary, expected):
    index = {"directory": {"item": [{"name": n} for n in names]}}
    assert xbrl_document_name(index, primary) == expected


def test_readme_documents_every_environment_variable():
    """The README's table is the users' reference: every variable config.py reads is in it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    read = set(
        re.findall(r'env\.get\(\s*"([A-Z_]+)"', (root / "pipelines/core/config.py").read_text())
    )
    read |= set(
        re.findall(r'_rate\(env, "([A-Z_]+)"', (root / "pipelines/core/config.py").read_text())
    )
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", (root / "README.md").read_text(), re.MULTILINE))
    assert read - table == set()
    assert len(read) >= 25
