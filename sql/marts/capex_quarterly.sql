-- grain: ticker, fiscal_year, fiscal_quarter
-- grain: ticker, calendar_year, calendar_quarter
--
-- Capital expenditure per company quarter, beside revenue and operating cash flow.
-- Amounts in USD; growth and ratios as fractions (0.136 = 13.6%).
--
-- capex is cash paid for property and equipment (metric map 'capex'). capex_yoy compares
-- with the same fiscal quarter a year before; capex_ttm is the sum of the last four
-- quarters. A YoY or TTM whose window lacks a quarter is null, never a sum over the wrong
-- quarters. free_cash_flow = operating_cash_flow - capex; capex_to_revenue = capex / revenue.
with quarters as (
    select
        ticker,
        fiscal_year,
        fiscal_quarter,
        min(calendar_year) as calendar_year,
        min(calendar_quarter) as calendar_quarter,
        max(period_end) as period_end,
        max(value) filter (where metric = 'capex') as capex,
        max(value) filter (where metric = 'revenue') as revenue,
        max(value) filter (where metric = 'operating_cash_flow') as operating_cash_flow
    from marts.metric_quarterly
    where metric in ('capex', 'revenue', 'operating_cash_flow')
    group by ticker, fiscal_year, fiscal_quarter
),

with_ttm as (
    select
        *,
        fiscal_year * 4 + fiscal_quarter as quarter_index,
        case
            when count(capex) over last_four = 4 then sum(capex) over last_four
        end as capex_ttm
    from quarters
    window last_four as (
        partition by ticker order by fiscal_year * 4 + fiscal_quarter
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
    q.capex,
    q.capex::double / nullif(a.capex::double, 0) - 1 as capex_yoy,
    q.capex_ttm,
    q.capex_ttm::double / nullif(a.capex_ttm::double, 0) - 1 as capex_ttm_yoy,
    q.revenue,
    q.capex::double / nullif(q.revenue::double, 0) as capex_to_revenue,
    q.operating_cash_flow,
    q.operating_cash_flow - q.capex as free_cash_flow
from with_ttm as q
left join with_ttm as a
    on a.ticker = q.ticker and a.quarter_index = q.quarter_index - 4
