"""What the report shows: one section per chart (or table), the mart it reads and how it is drawn.

Each section names the mart columns it needs (its column contract with the mart), so a mart
that is missing, lacks a column or is empty gives a note in the report instead of a failure.
Amounts are USD in the marts and billions of USD in the charts; growth rates and ratios are
fractions in the marts and percentages in the charts.
"""

from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import polars as pl

WIDTH = 760
HEIGHT = 320
YEARS = alt.Axis(format="%Y", tickCount="year")

# Segments of the cloud businesses, as marts.segment_revenue names them (staging.segment_map).
CLOUD_SEGMENTS = ("Amazon Web Services", "Google Cloud", "Intelligent Cloud", "Microsoft Cloud")

# Claim verdicts, most interesting first.
VERDICT_ORDER = ("mismatch", "close", "match", "unverifiable")


@dataclass(frozen=True)
class Section:
    """One part of the report.

    ``sql`` reads ``table`` (and ``also`` tables) from the published warehouse; ``chart`` turns
    its rows into an Altair chart, or is None for a section shown as a table.
    """

    id: str
    title: str
    caption: str
    table: str
    columns: tuple[str, ...]
    sql: str
    chart: Callable[[pl.DataFrame], alt.TopLevelMixin] | None = None
    also: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # why the mart may have no rows, and what fills it
    empty_hint: str = "the companies loaded have no figures for it yet; it fills in as their "
    "filings arrive"

    @property
    def requirements(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every (table, columns) the section reads."""
        return ((self.table, self.columns), *self.also)


def inline(frame: pl.DataFrame) -> dict:
    """The rows as inline Vega-Lite data (dates as ISO strings, decimals as floats).

    Inline values are not subject to Altair's 5,000-row limit for data frames, and a plain
    dict skips Altair's per-row schema validation, which is slow for thousands of rows.
    """
    converted = frame.with_columns(
        [
            pl.col(name).cast(pl.String)
            if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime)
            else pl.col(name).cast(pl.Float64)
            if isinstance(dtype, pl.Decimal)
            else pl.col(name)
            for name, dtype in frame.schema.items()
        ]
    )
    return {"values": converted.to_dicts()}


def _quarter_label(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        quarter=pl.format("{} Q{}", pl.col("calendar_year"), pl.col("calendar_quarter"))
    )


def capex_by_company_chart(frame: pl.DataFrame) -> alt.Chart:
    """Stacked bars: each company's capex per calendar quarter, in USD billions."""
    data = _quarter_label(frame).with_columns(capex_bn=pl.col("capex").cast(pl.Float64) / 1e9)
    return (
        alt.Chart(inline(data.select("quarter", "ticker", "capex_bn")))
        .mark_bar()
        .encode(
            x=alt.X("quarter:O", title="calendar quarter", sort="ascending"),
            y=alt.Y("sum(capex_bn):Q", title="capex (USD bn)", stack="zero"),
            color=alt.Color("ticker:N", title="company"),
            order=alt.Order("ticker:N"),
            tooltip=["quarter:O", "ticker:N", alt.Tooltip("capex_bn:Q", format=",.3f")],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def capex_universe_chart(frame: pl.DataFrame) -> alt.LayerChart:
    """Bars: the universe's capex per calendar quarter, labelled with the number of companies."""
    data = _quarter_label(frame).with_columns(
        capex_bn=pl.col("capex").cast(pl.Float64) / 1e9,
        capex_yoy_pct=pl.col("capex_yoy").cast(pl.Float64) * 100,
    )
    base = alt.Chart(
        inline(data.select("quarter", "capex_bn", "capex_yoy_pct", "companies"))
    ).encode(x=alt.X("quarter:O", title="calendar quarter", sort="ascending"))
    bars = base.mark_bar(color="#4c78a8").encode(
        y=alt.Y("capex_bn:Q", title="capex, all companies (USD bn)"),
        tooltip=[
            "quarter:O",
            alt.Tooltip("capex_bn:Q", format=",.3f"),
            alt.Tooltip("capex_yoy_pct:Q", format=".1f", title="yoy %"),
            "companies:Q",
        ],
    )
    labels = base.mark_text(dy=-6, fontSize=10).encode(
        y="capex_bn:Q", text=alt.Text("companies:Q", title="companies")
    )
    return (bars + labels).properties(width=WIDTH, height=HEIGHT)


def capex_vs_growth_chart(frame: pl.DataFrame) -> alt.Chart:
    """Scatter: trailing-twelve-month capex growth against revenue growth, per company quarter."""
    data = _quarter_label(frame).with_columns(
        capex_growth_pct=pl.col("capex_ttm_yoy").cast(pl.Float64) * 100,
        revenue_growth_pct=pl.col("revenue_ttm_yoy").cast(pl.Float64) * 100,
    )
    return (
        alt.Chart(
            inline(data.select("ticker", "quarter", "capex_growth_pct", "revenue_growth_pct"))
        )
        .mark_circle(size=70, opacity=0.8)
        .encode(
            x=alt.X("revenue_growth_pct:Q", title="revenue growth, TTM year on year (%)"),
            y=alt.Y("capex_growth_pct:Q", title="capex growth, TTM year on year (%)"),
            color=alt.Color("ticker:N", title="company"),
            tooltip=[
                "ticker:N",
                "quarter:O",
                alt.Tooltip("revenue_growth_pct:Q", format=".1f"),
                alt.Tooltip("capex_growth_pct:Q", format=".1f"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def capex_intensity_chart(frame: pl.DataFrame) -> alt.Chart:
    """Lines: capex as a percentage of revenue per company quarter."""
    data = frame.with_columns(
        intensity_pct=pl.col("capex_to_revenue").cast(pl.Float64) * 100,
        period_end=pl.col("period_end").cast(pl.String),
    )
    return (
        alt.Chart(inline(data.select("ticker", "period_end", "intensity_pct")))
        .mark_line(point=True)
        .encode(
            x=alt.X("period_end:T", title="quarter end", axis=YEARS),
            y=alt.Y("intensity_pct:Q", title="capex / revenue (%)"),
            color=alt.Color("ticker:N", title="company"),
            tooltip=["ticker:N", "period_end:T", alt.Tooltip("intensity_pct:Q", format=".1f")],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def cloud_segments_chart(frame: pl.DataFrame) -> alt.FacetChart:
    """Lines: revenue of each cloud segment per quarter and per fiscal year, in USD billions."""
    data = frame.with_columns(
        revenue_bn=pl.col("revenue").cast(pl.Float64) / 1e9,
        yoy_pct=pl.col("yoy").cast(pl.Float64) * 100,
        label=pl.format("{} ({})", pl.col("segment"), pl.col("ticker")),
    )
    return (
        alt.Chart(inline(data.select("label", "period", "period_end", "revenue_bn", "yoy_pct")))
        .mark_line(point=True)
        .encode(
            x=alt.X("period_end:T", title="period end", axis=YEARS),
            y=alt.Y("revenue_bn:Q", title="segment revenue (USD bn)"),
            color=alt.Color("label:N", title="segment"),
            tooltip=[
                "label:N",
                "period:N",
                "period_end:T",
                alt.Tooltip("revenue_bn:Q", format=",.3f"),
                alt.Tooltip("yoy_pct:Q", format=".1f", title="yoy %"),
            ],
        )
        .properties(width=WIDTH // 2 - 40, height=HEIGHT)
        .facet(column=alt.Column("period:N", title=None, sort=["quarter", "fiscal year"]))
        .resolve_scale(y="independent", x="independent")
    )


MULTIPLES = {"pe": "P/E", "ps": "P/S", "ev_ebitda": "EV/EBITDA", "fcf_yield": "FCF yield (%)"}


def valuation_chart(frame: pl.DataFrame) -> alt.FacetChart:
    """Lines, one panel per multiple: P/E, P/S, EV/EBITDA and free-cash-flow yield over time."""
    data = (
        frame.with_columns(pl.col(list(MULTIPLES)).cast(pl.Float64))
        .with_columns(pl.col("fcf_yield") * 100)
        .unpivot(index=["ticker", "date"], on=list(MULTIPLES), variable_name="multiple")
        .drop_nulls("value")
        .sort(["ticker", "multiple", "date"])
        # a new line after a gap of more than three weeks, instead of a line across the gap
        .with_columns(
            run=(pl.col("date").diff().dt.total_days().fill_null(0) > 21)
            .cum_sum()
            .over(["ticker", "multiple"])
        )
        .with_columns(
            pl.col("multiple").replace_strict(MULTIPLES),
            date=pl.col("date").cast(pl.String),
        )
    )
    return (
        alt.Chart(inline(data))
        .mark_line()
        .encode(
            x=alt.X("date:T", title=None, axis=YEARS),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("ticker:N", title="company"),
            detail="run:N",
            tooltip=["ticker:N", "date:T", "multiple:N", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(width=WIDTH, height=150)
        .facet(row=alt.Row("multiple:N", title=None, sort=list(MULTIPLES.values())))
        .resolve_scale(y="independent")
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        id="capex_by_company",
        title="Quarterly capex by company",
        caption="Purchases of property and equipment (cash capex) per company, stacked, by the "
        "calendar quarter nearest each fiscal quarter's end. USD billions.",
        table="marts.capex_quarterly",
        columns=("ticker", "calendar_year", "calendar_quarter", "capex"),
        sql="SELECT ticker, calendar_year, calendar_quarter, capex FROM marts.capex_quarterly "
        "WHERE capex IS NOT NULL ORDER BY calendar_year, calendar_quarter, ticker",
        chart=capex_by_company_chart,
    ),
    Section(
        id="capex_universe",
        title="Capex of the whole universe",
        caption="All companies' capex per calendar quarter; the number above each bar counts the "
        "companies that reported that quarter. USD billions.",
        table="marts.capex_by_calendar_quarter",
        columns=("calendar_year", "calendar_quarter", "companies", "capex", "capex_yoy"),
        sql="SELECT calendar_year, calendar_quarter, companies, capex, capex_yoy "
        "FROM marts.capex_by_calendar_quarter WHERE capex IS NOT NULL "
        "ORDER BY calendar_year, calendar_quarter",
        chart=capex_universe_chart,
    ),
    Section(
        id="capex_vs_growth",
        title="Capex growth against revenue growth",
        caption="Each point is a company quarter: trailing-twelve-month capex growth against "
        "trailing-twelve-month revenue growth, year on year.",
        table="marts.capex_quarterly",
        columns=(
            "ticker",
            "fiscal_year",
            "fiscal_quarter",
            "calendar_year",
            "calendar_quarter",
            "capex_ttm_yoy",
        ),
        also=(
            (
                "marts.revenue_growth",
                ("ticker", "fiscal_year", "fiscal_quarter", "revenue_ttm_yoy"),
            ),
        ),
        sql="SELECT c.ticker, c.calendar_year, c.calendar_quarter, c.capex_ttm_yoy, "
        "r.revenue_ttm_yoy FROM marts.capex_quarterly AS c JOIN marts.revenue_growth AS r "
        "USING (ticker, fiscal_year, fiscal_quarter) "
        "WHERE c.capex_ttm_yoy IS NOT NULL AND r.revenue_ttm_yoy IS NOT NULL "
        "ORDER BY c.ticker, c.calendar_year, c.calendar_quarter",
        chart=capex_vs_growth_chart,
    ),
    Section(
        id="capex_intensity",
        title="Capex intensity",
        caption="Capex as a percentage of revenue, per company and fiscal quarter.",
        table="marts.capex_quarterly",
        columns=("ticker", "period_end", "capex_to_revenue"),
        sql="SELECT ticker, period_end, capex_to_revenue FROM marts.capex_quarterly "
        "WHERE capex_to_revenue IS NOT NULL ORDER BY ticker, period_end",
        chart=capex_intensity_chart,
    ),
    Section(
        id="cloud_segments",
        title="Cloud segment revenue",
        caption="Revenue of the cloud businesses as the companies report their segments "
        f"({', '.join(CLOUD_SEGMENTS)}), per quarter and per fiscal year. USD billions.",
        table="marts.segment_revenue",
        columns=("ticker", "segment", "period_start", "period_end", "revenue", "yoy"),
        sql="SELECT ticker, segment, period_end, revenue, yoy, CASE WHEN period_end - "
        "period_start < 100 THEN 'quarter' ELSE 'fiscal year' END AS period "
        "FROM marts.segment_revenue WHERE list_contains("
        + repr(list(CLOUD_SEGMENTS))
        + ", segment) AND (period_end - period_start < 100 OR period_end - period_start > 350) "
        "AND revenue IS NOT NULL ORDER BY ticker, segment, period_end",
        chart=cloud_segments_chart,
    ),
    Section(
        id="valuation",
        title="Valuation multiples over time",
        caption="P/E, P/S, EV/EBITDA and free-cash-flow yield on the last trading day of each "
        "week, point in time (only figures filed by that day). A multiple with a missing or "
        "non-positive denominator is left out.",
        table="marts.valuation_daily",
        empty_hint="it needs daily prices (staging.prices) and TTM figures filed before those "
        "days; check the prices_daily schedule or CAPEX_PRICES_DIR",
        columns=("ticker", "date", "pe", "ps", "ev_ebitda", "fcf_yield"),
        sql="SELECT ticker, date, pe, ps, ev_ebitda, fcf_yield FROM marts.valuation_daily "
        "WHERE coalesce(pe, ps, ev_ebitda, fcf_yield) IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY ticker, date_trunc('week', date) "
        "ORDER BY date DESC) = 1 ORDER BY ticker, date",
        chart=valuation_chart,
    ),
    Section(
        id="claim_checks",
        title="News claims checked against the filings",
        caption="Each figure quoted in the news, against what the company filed: match (within "
        "1%, allowing for rounding), close (within 5%), mismatch, or unverifiable.",
        table="marts.claim_checks",
        empty_hint="no news claims have been checked yet: set CAPEX_NEWS_SOURCES (feeds or "
        "article URLs) and run the news_refresh job",
        columns=(
            "claim_id",
            "ticker",
            "metric",
            "period_start",
            "period_end",
            "claimed_value",
            "filed_value",
            "deviation",
            "verdict",
            "explanation",
        ),
        sql="SELECT ticker, metric, period_start, period_end, claimed_value, filed_value, "
        "deviation, verdict, explanation FROM marts.claim_checks ORDER BY "
        "coalesce(list_position(" + repr(list(VERDICT_ORDER)) + ", verdict), 99), "
        "ticker, metric, period_end, claim_id",
    ),
)
