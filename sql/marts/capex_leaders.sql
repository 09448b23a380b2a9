-- grain: calendar_year, calendar_quarter, rank
-- grain: calendar_year, calendar_quarter, ticker
--
-- The 50 largest capital spenders of the universe per calendar quarter (each company quarter
-- in the calendar quarter whose end is nearest its own end), with capex growth and capex
-- intensity. Amounts in USD; growth and ratios as fractions (0.136 = 13.6%).
--
-- rank 1 is the largest capex of the quarter (ties broken by ticker). capex_yoy compares with
-- the company's same fiscal quarter a year before (null when that quarter is missing);
-- capex_to_revenue = capex / revenue. A filer without a ticker is named CIK##########, as in
-- every mart (staging.companies has its name).
with ranked as (
    select
        ticker,
        calendar_year,
        calendar_quarter,
        fiscal_year,
        fiscal_quarter,
        period_end,
        capex,
        capex_yoy,
        revenue,
        capex_to_revenue,
        row_number() over (
            partition by calendar_year, calendar_quarter order by capex desc, ticker
        ) as rank
    from marts.capex_quarterly
    where capex is not null
    qualify rank <= 50
)

select
    r.calendar_year,
    r.calendar_quarter,
    r.rank,
    r.ticker,
    r.fiscal_year,
    r.fiscal_quarter,
    r.period_end,
    r.capex,
    r.capex_yoy,
    r.revenue,
    r.capex_to_revenue
from ranked as r
