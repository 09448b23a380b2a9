-- Each fiscal year's value of each duration metric (company totals, segment = '', and
-- segments), as last filed: the fact covering exactly the fiscal year of
-- staging.int_fiscal_years, with the value and concept of the latest filing that reports it.
-- `accession` and `filed` name the first filing that reported that value (later annual
-- reports repeat it as a comparative, perhaps under a new tag), as in
-- staging.int_metric_quarters_pit.
with years as (
    select f.*, y.fiscal_year
    from staging.stg_metric_facts as f
    inner join staging.int_fiscal_years as y
        on y.ticker = f.ticker and y.fy_start = f.period_start
    where f.period_type = 'duration'
        and f.months = 12
        and (y.fy_end is null or f.period_end = y.fy_end)
),

changes as (
    select
        *,
        (lag(value) over same_period is distinct from value)::integer as changed,
        last_value(concept) over (
            same_period rows between unbounded preceding and unbounded following
        ) as latest_concept
    from years
    window same_period as (
        partition by ticker, metric, segment, period_start, period_end order by filed, accession
    )
),

runs as (
    -- runs of filings reporting the same value: the last run holds the current value
    select
        *,
        sum(changed) over (
            partition by ticker, metric, segment, period_start, period_end
            order by filed, accession
            rows between unbounded preceding and current row
        ) as run
    from changes
)

select
    ticker,
    metric,
    segment,
    fiscal_year,
    period_start,
    period_end,
    value,
    latest_concept as concept,
    accession,
    filed
from runs
qualify run = max(run) over (partition by ticker, metric, segment, period_start, period_end)
    and row_number() over (
        partition by ticker, metric, segment, period_start, period_end, run
        order by filed, accession
    ) = 1
