-- grain: calendar_year, calendar_quarter
--
-- The whole universe's capital expenditure per calendar quarter (each company quarter in
-- the calendar quarter whose end is nearest its own end). Amounts in USD.
--
-- companies counts the companies with capex that quarter. capex_yoy compares the same
-- companies a year before (like for like); it is null when any of them lacks the year-ago
-- quarter.
with company_quarters as (
    select
        ticker,
        calendar_year,
        calendar_quarter,
        calendar_year * 4 + calendar_quarter as quarter_index,
        capex
    from marts.capex_quarterly
    where capex is not null
),

paired as (
    select c.*, a.capex as capex_year_ago
    from company_quarters as c
    left join company_quarters as a
        on a.ticker = c.ticker and a.quarter_index = c.quarter_index - 4
)

select
    calendar_year,
    calendar_quarter,
    count(*) as companies,
    sum(capex) as capex,
    case
        when count(capex_year_ago) = count(*)
            then sum(capex)::double / nullif(sum(capex_year_ago)::double, 0) - 1
    end as capex_yoy
from paired
group by calendar_year, calendar_quarter
