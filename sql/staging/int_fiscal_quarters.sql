-- The company quarters (period_start .. period_end) with their fiscal and calendar labels:
-- one quarter per company, fiscal year and fiscal quarter.
--
-- fiscal_year is the label of the fiscal year (staging.int_fiscal_years) the quarter lies
-- in; fiscal_quarter counts quarters from that year's start by dates (a 14-week quarter of
-- a 53-week year is still one quarter). calendar_year/calendar_quarter are those of the
-- calendar quarter whose end is nearest the period end: NVIDIA's quarter ended 2024-07-28
-- is calendar 2024 Q2. A quarter outside any known fiscal year is left out.
--
-- Filings occasionally misdate a comparative quarter by a day (NVIDIA's fiscal 2012 10-K
-- dates fiscal 2011 Q2 to 2010-07-31, where every other filing says 2010-08-01). When
-- candidates compete for one label, the quarter whose end (and previous end) the most
-- filings report wins; the others are dropped.
with quarters as (
    select distinct ticker, quarter_start as period_start, quarter_end as period_end
    from staging.int_quarter_formulas
),

period_ends as (
    select ticker, period_end, count(distinct accession) as filings
    from staging.stg_metric_facts
    where segment = ''
    group by ticker, period_end
),

lengths as (
    select
        max(nominal_days) filter (where months = 3) as quarter_days,
        max(max_days) filter (where months = 12) as longest_year_days
    from staging.period_lengths
),

placed as (
    select
        q.ticker,
        q.period_start,
        q.period_end,
        y.fiscal_year,
        1 + round((q.period_start - y.fy_start) / l.quarter_days)::integer as fiscal_quarter
    from quarters as q
    cross join lengths as l
    inner join staging.int_fiscal_years as y
        on y.ticker = q.ticker
        and q.period_start >= y.fy_start
        -- the year in progress (no fy_end yet) ends at the latest a longest year after its start
        and q.period_end <= coalesce(y.fy_end, y.fy_start + l.longest_year_days - 1)
    qualify row_number() over (
        partition by q.ticker, q.period_start, q.period_end order by y.fy_start desc
    ) = 1
),

canonical as (
    select p.*
    from placed as p
    left join period_ends as e
        on e.ticker = p.ticker and e.period_end = p.period_end
    left join period_ends as b
        on b.ticker = p.ticker and b.period_end = p.period_start - 1
    qualify row_number() over (
        partition by p.ticker, p.fiscal_year, p.fiscal_quarter
        order by coalesce(e.filings, 0) + coalesce(b.filings, 0) desc, p.period_end, p.period_start
    ) = 1
),

nearest as (
    select
        *,
        last_day(make_date(year(period_end), 3 * quarter(period_end), 1)) as end_after,
        make_date(year(period_end), 3 * quarter(period_end) - 2, 1) - 1 as end_before
    from canonical
)

select
    ticker,
    period_start,
    period_end,
    fiscal_year,
    fiscal_quarter,
    year(case when end_after - period_end <= period_end - end_before then end_after else end_before end)
        as calendar_year,
    quarter(case when end_after - period_end <= period_end - end_before then end_after else end_before end)
        as calendar_quarter
from nearest
