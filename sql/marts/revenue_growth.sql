-- grain: ticker, fiscal_year, fiscal_quarter
-- grain: ticker, calendar_year, calendar_quarter
--
-- Revenue per company quarter and its growth, as fractions (0.136 = 13.6%). Amounts in USD.
--
-- revenue_yoy compares with the same fiscal quarter a year before, revenue_qoq with the
-- previous quarter; revenue_ttm is the sum of the last four quarters. A growth rate or TTM
-- whose window lacks a quarter is null.
with quarters as (
    select
        ticker,
        fiscal_year,
        fiscal_quarter,
        calendar_year,
        calendar_quarter,
        period_end,
        value as revenue,
        fiscal_year * 4 + fiscal_quarter as quarter_index
    from marts.metric_quarterly
    where metric = 'revenue'
),

with_ttm as (
    select
        *,
        case
            when count(revenue) over last_four = 4 then sum(revenue) over last_four
        end as revenue_ttm
    from quarters
    window last_four as (
        partition by ticker order by quarter_index
        range between 3 preceding and current row
    )
)

select
    q.ticker,
    q.fiscal_year,
    q.fiscal_quarter,
    q.calendar_year,
    q.calendar_quarter,
    q.period_end,
    q.revenue,
    q.revenue::double / nullif(y.revenue::double, 0) - 1 as revenue_yoy,
    q.revenue::double / nullif(p.revenue::double, 0) - 1 as revenue_qoq,
    q.revenue_ttm,
    q.revenue_ttm::double / nullif(y.revenue_ttm::double, 0) - 1 as revenue_ttm_yoy
from with_ttm as q
left join with_ttm as y
    on y.ticker = q.ticker and y.quarter_index = q.quarter_index - 4
left join with_ttm as p
    on p.ticker = q.ticker and p.quarter_index = q.quarter_index - 1
