-- Each fiscal year's value of each duration metric (company totals, segment = '', and
-- segments), as last filed: the fact covering exactly the fiscal year of
-- staging.int_fiscal_years, from the latest filing that reports it.
select
    f.ticker,
    f.metric,
    f.segment,
    y.fiscal_year,
    f.period_start,
    f.period_end,
    f.value,
    f.concept,
    f.accession,
    f.filed
from staging.stg_metric_facts as f
inner join staging.int_fiscal_years as y
    on y.ticker = f.ticker and y.fy_start = f.period_start
where f.period_type = 'duration'
    and f.months = 12
    and (y.fy_end is null or f.period_end = y.fy_end)
qualify row_number() over (
    partition by f.ticker, f.metric, f.segment, f.period_start, f.period_end
    order by f.filed desc, f.accession desc
) = 1
