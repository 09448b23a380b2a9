-- Each company's fiscal years, found from the dates of the annual periods its annual
-- reports cover (each 10-K's year and its comparatives), never from the fy/fp of a filing,
-- which describe the filing rather than the fact.
--
-- A year starts the day after the previous one ends. fiscal_year is the company's own label,
-- the calendar year in which the year ends (NVIDIA's fiscal 2025 ended 2025-01-26, Apple's
-- fiscal 2024 on 2024-09-28), except that a 52/53-week year ending in the first days of
-- January takes the previous year's number; it is computed as the year of fy_start plus the
-- shortest fiscal year (357 days, staging.period_lengths), so the year in progress is
-- labelled too. fy_end is null for the year in progress (or when the next year is missing
-- from the facts, or the years between are not one fiscal year long).
with annual as (
    select distinct ticker, period_start, period_end
    from staging.stg_metric_facts
    where months = 12
        and segment = ''
        and regexp_full_match(form, '(10-K|10-KT|20-F|40-F)(/A)?')
),

starts as (
    select ticker, period_start as fy_start from annual
    union
    select ticker, period_end + 1 as fy_start from annual
),

years as (
    select
        ticker,
        fy_start,
        lead(fy_start) over (partition by ticker order by fy_start) as next_start
    from starts
),

year_length as (
    select min_days, max_days from staging.period_lengths where months = 12
)

select
    y.ticker,
    year(y.fy_start + l.min_days) as fiscal_year,
    y.fy_start,
    case
        when y.next_start - y.fy_start between l.min_days and l.max_days then y.next_start - 1
    end as fy_end
from years as y
cross join year_length as l
