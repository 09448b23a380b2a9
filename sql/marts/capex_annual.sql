-- grain: ticker, fiscal_year
--
-- Capital expenditure per company fiscal year (the fiscal-year figure as last filed), beside
-- revenue. Amounts in USD; capex_yoy and capex_to_revenue as fractions. capex_yoy is null
-- when the previous fiscal year is missing.
with years as (
    select
        ticker,
        fiscal_year,
        max(period_end) as period_end,
        max(value) filter (where metric = 'capex') as capex,
        max(value) filter (where metric = 'revenue') as revenue
    from staging.int_metric_annual
    where segment = '' and metric in ('capex', 'revenue')
    group by ticker, fiscal_year
)

select
    y.ticker,
    y.fiscal_year,
    y.period_end,
    y.capex,
    y.capex::double / nullif(p.capex::double, 0) - 1 as capex_yoy,
    y.revenue,
    y.capex::double / nullif(y.revenue::double, 0) as capex_to_revenue
from years as y
left join years as p
    on p.ticker = y.ticker and p.fiscal_year = y.fiscal_year - 1
