"""SEC's bulk archives read safely: bad members skipped by name, corrupt archives and zip
bombs refused, the streamed download stored in raw/ with conditional GETs.

Facts are checked against NVIDIA's published figures (FY2025 10-K: revenue $130,497 million).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.http import Fetcher
from pipelines.core.rawstore import RawStore
from pipelines.sec.bulk import (
    ArchiveError,
    companyfacts_batches,
    open_archive,
    read_member,
)
from pipelines.sec.companyfacts import normalize_companyfacts

NVDA = 1045810
AAPL = 320193


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return path


@pytest.fixture(scope="module")
def nvda_body(shared_fixtures: Path) -> bytes:
    return (shared_fixtures / "sec" / "companyfacts" / "CIK0001045810.json").read_bytes()


def test_bad_members_are_skipped_and_named(tmp_path, nvda_body):
    """Empty, not JSON, and JSON of the wrong shape: each named with its reason; NVIDIA lands."""
    path = _zip(
        tmp_path / "companyfacts.zip",
        {
            "CIK0000000001.json": b"",
            "CIK0000000002.json": b'{"cik": 2, "facts": {"us-gaap": {',
            "CIK0000000003.json": b"[1, 2, 3]",
            "CIK0000000004.json": b'{"cik": 4, "facts": {"us-gaap": {"Revenues": {"units": 7}}}}',
            f"CIK{NVDA:010d}.json": nvda_body,
        },
    )
    [batch] = companyfacts_batches(path, {NVDA: "NVDA"})
    assert batch.landed == [NVDA]
    assert batch.skipped["CIK0000000001.json"] == "CIK0000000001.json: empty member"
    assert batch.skipped["CIK0000000002.json"].startswith("CIK0000000002.json: malformed JSON")
    assert batch.skipped["CIK0000000003.json"] == (
        "CIK0000000003.json: not a companyfacts document (Expected `object`, got `array`)"
    )
    assert batch.skipped["CIK0000000004.json"] == (
        "CIK0000000004.json: not a companyfacts document "
        "(Expected `object`, got `int` - at `$.facts[...][...].units`; "
        "at facts.us-gaap.Revenues.units)"
    )
    revenue = batch.frame.filter(
        (pl.col("concept") == "Revenues")
        & (pl.col("period_end") == pl.date(2025, 1, 26))
        & (pl.col("period_start") == pl.date(2024, 1, 29))
    )["value"].unique()
    assert revenue.to_list() == [130_497_000_000]


def test_archive_rows_equal_the_per_company_document(tmp_path, nvda_body):
    path = _zip(tmp_path / "companyfacts.zip", {f"CIK{NVDA:010d}.json": nvda_body})
    [batch] = companyfacts_batches(path, {NVDA: "NVDA"})
    assert batch.frame.equals(normalize_companyfacts(nvda_body, "NVDA", NVDA))


def test_batches_read_ahead_equal_one_batch_of_all(tmp_path, shared_fixtures):
    """One member per batch, read three ahead in threads, gives the same rows, in the same
    order, as all members in one batch read by one pass of polars."""
    folder = shared_fixtures / "sec" / "companyfacts"
    members = {p.name: p.read_bytes() for p in sorted(folder.glob("CIK*.json"))}
    path = _zip(tmp_path / "companyfacts.zip", members)
    tickers = {AAPL: "AAPL", NVDA: "NVDA", 1652044: "GOOGL"}
    one = list(companyfacts_batches(path, tickers, ahead=0))
    ahead = list(companyfacts_batches(path, tickers, ahead=3, batch_bytes=1))
    assert [b.landed for b in one] == [[AAPL, NVDA, 1652044]]
    assert [b.landed for b in ahead] == [[AAPL], [NVDA], [1652044]]
    assert one[0].frame.equals(pl.concat([b.frame for b in ahead]))
    assert one[0].frame.group_by("ticker").len().sort("ticker").rows() == [
        ("AAPL", 24_579),
        ("GOOGL", 20_324),
        ("NVDA", 26_903),
    ]


def test_a_member_whose_facts_fail_the_reader_is_skipped_alone(tmp_path, nvda_body):
    """A fact of the wrong type (fy as a word) passes the first decoding but fails polars'
    reader, which reads a whole batch at once: the batch is read again member by member so
    that only the bad member is skipped."""
    bad = (
        b'{"facts": {"dei": {"Shares": {"units": {"shares": [{"end": "2024-06-30", "fy": "x"}]}}}}}'
    )
    path = _zip(
        tmp_path / "companyfacts.zip",
        {"CIK0000000005.json": bad, f"CIK{NVDA:010d}.json": nvda_body},
    )
    [batch] = companyfacts_batches(path, {NVDA: "NVDA"})
    assert batch.landed == [NVDA]
    assert list(batch.skipped) == ["CIK0000000005.json"]
    assert batch.skipped["CIK0000000005.json"].startswith(
        "CIK0000000005.json: facts of an unexpected shape"
    )
    assert batch.frame.equals(normalize_companyfacts(nvda_body, "NVDA", NVDA))


def test_a_truncated_archive_is_refused_naming_the_file(tmp_path, nvda_body):
    good = _zip(tmp_path / "good.zip", {f"CIK{NVDA:010d}.json": nvda_body}).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ArchiveError, match=r"cut\.zip: not a readable zip archive .*truncated"):
        open_archive(cut)


def test_a_corrupt_member_fails_the_archive_not_the_member(tmp_path, nvda_body):
    """Damaged compressed data (a bad CRC) means the archive is bad: fetch it again."""
    good = bytearray(_zip(tmp_path / "good.zip", {f"CIK{NVDA:010d}.json": nvda_body}).read_bytes())
    good[len(good) // 2] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(good))
    with open_archive(bad) as archive, pytest.raises(ArchiveError, match="is corrupt"):
        read_member(archive, archive.infolist()[0], "facts")


def test_a_zip_bomb_is_refused(tmp_path):
    """8 MB of spaces deflate about 1,000x: refused before anything is read."""
    path = _zip(tmp_path / "bomb.zip", {"CIK0000000001.json": b" " * (8 << 20)})
    with pytest.raises(ArchiveError, match="refused as a possible zip bomb"):
        open_archive(path)


def test_download_streams_to_raw_and_a_304_downloads_nothing(httpserver, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("CIK0000000001.json", b'{"facts": {}}')
    body = buffer.getvalue()
    path = "/Archives/edgar/daily-index/xbrl/companyfacts.zip"
    httpserver.expect_ordered_request(path).respond_with_data(body, headers={"ETag": '"v1"'})
    httpserver.expect_ordered_request(path, headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    store = RawStore(tmp_path / "raw")
    fetcher = Fetcher(
        "sec-www",
        httpserver.url_for(""),
        store,
        user_agent="t t@example.com",
        requests_per_second=100,
    )
    first = fetcher.download(path, lambda p: zipfile.ZipFile(p).namelist())
    assert first.downloaded and first.parsed == ["CIK0000000001.json"]
    assert first.document.path.read_bytes() == body and first.document.etag == '"v1"'
    second = fetcher.download(path, lambda p: zipfile.ZipFile(p).namelist())
    assert not second.downloaded and second.document == first.document
    assert fetcher.bytes_downloaded == len(body)
    folder = first.document.path.parent
    # one version (body and sidecar) and the folder's writer lock; no temporary file left
    assert sorted(p.suffix or p.name for p in folder.iterdir()) == [".body", ".json", ".lock"]
