-- grain: ticker, metric, fiscal_year, fiscal_quarter
--
-- The standard metrics of each company quarter, as last filed: one row per company, metric,
-- fiscal year and fiscal quarter. Amounts in USD (shares for diluted_shares).
--
-- Quarters are identified by their start and end dates. `derivation` says how the value was
-- made: 'reported' (a three-month fact, or an instant at the quarter end), 'ytd_difference'
-- (a year-to-date figure minus the previous one of the same fiscal year, e.g. a 10-Q's
-- six-month cash flow minus the first quarter) or 'annual_minus_ytd' (the fiscal year minus
-- its first nine months). `concept` is the XBRL concept chosen for the period (the latest
-- filing's, in the metric map's order); `accession` and `filed` name the filing that first
-- reported the current value (later filings repeating it as a comparative do not change
-- them). marts.metric_quarterly_pit keeps the earlier vintages.
select
    ticker,
    metric,
    fiscal_year,
    fiscal_quarter,
    calendar_year,
    calendar_quarter,
    period_start,
    period_end,
    value,
    concept,
    derivation,
    accession,
    filed
from marts.metric_quarterly_pit
where superseded is null
