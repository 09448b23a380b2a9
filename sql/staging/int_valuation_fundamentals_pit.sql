-- The fundamentals a valuation divides by, as they were known on each filing date: one row
-- per company and `known_from` (every date on which a filing changed a quarter's figure),
-- valid until the next row. Nothing filed after `known_from` is used (no look-ahead).
--
-- TTM = the last four fiscal quarters known on that date, all ending at the latest quarter
-- known (`ttm_period_end`); a figure is null when one of its four quarters is missing.
-- ebitda = operating_income + depreciation_amortization and free cash flow =
-- operating_cash_flow - capex, per quarter (both terms of the same quarter) before summing.
-- net_debt = total_debt - cash (cash and cash equivalents, as the metric map defines them) of
-- the latest balance sheet known, null unless both are known for that date. Quarters ended
-- more than two years before `known_from` are not used (a stale figure is no figure).
with pit as (
    select
        ticker,
        metric,
        fiscal_year * 4 + fiscal_quarter as quarter_index,
        period_end,
        value::double as value,
        filed,
        superseded
    from marts.metric_quarterly_pit
    where metric in (
        'revenue', 'net_income', 'operating_income', 'depreciation_amortization',
        'operating_cash_flow', 'capex', 'cash', 'total_debt'
    )
),

knowledge_dates as (
    select distinct ticker, filed as known_from from pit
),

known as (
    -- each figure as it stood on each knowledge date
    select k.ticker, k.known_from, p.metric, p.quarter_index, p.period_end, p.value
    from knowledge_dates as k
    inner join pit as p
        on p.ticker = k.ticker
        and p.filed <= k.known_from
        and (p.superseded is null or p.superseded > k.known_from)
        -- a TTM window and a balance sheet are recent: older quarters are never needed
        and p.period_end > k.known_from - interval 2 year
    qualify row_number() over (
        partition by k.ticker, k.known_from, p.metric, p.quarter_index
        order by p.period_end desc, p.filed desc
    ) = 1
),

quarters as (
    select
        ticker,
        known_from,
        quarter_index,
        max(period_end) as period_end,
        max(value) filter (where metric = 'revenue') as revenue,
        max(value) filter (where metric = 'net_income') as net_income,
        max(value) filter (where metric = 'operating_income')
            + max(value) filter (where metric = 'depreciation_amortization') as ebitda,
        max(value) filter (where metric = 'operating_cash_flow')
            - max(value) filter (where metric = 'capex') as free_cash_flow,
        max(value) filter (where metric = 'capex') as capex
    from known
    where metric not in ('cash', 'total_debt')
    group by ticker, known_from, quarter_index
),

ttm as (
    select
        *,
        case when count(revenue) over last_four = 4 then sum(revenue) over last_four end
            as revenue_ttm,
        case when count(net_income) over last_four = 4 then sum(net_income) over last_four end
            as net_income_ttm,
        case when count(ebitda) over last_four = 4 then sum(ebitda) over last_four end
            as ebitda_ttm,
        case
            when count(free_cash_flow) over last_four = 4 then sum(free_cash_flow) over last_four
        end as free_cash_flow_ttm,
        case when count(capex) over last_four = 4 then sum(capex) over last_four end
            as capex_ttm
    from quarters
    window last_four as (
        partition by ticker, known_from order by quarter_index
        range between 3 preceding and current row
    )
),

latest_ttm as (
    -- every TTM ends at the latest quarter known on that date: a figure missing for that
    -- quarter is null, never an older window beside a newer revenue
    select *
    from ttm
    qualify quarter_index = max(quarter_index) over (partition by ticker, known_from)
),

balance_sheets as (
    select
        ticker,
        known_from,
        period_end,
        max(value) filter (where metric = 'cash') as cash,
        max(value) filter (where metric = 'total_debt') as total_debt
    from known
    where metric in ('cash', 'total_debt')
    group by ticker, known_from, period_end
),

latest_balance as (
    select ticker, known_from, period_end as balance_sheet_date, cash, total_debt
    from balance_sheets
    where cash is not null
    qualify row_number() over (partition by ticker, known_from order by period_end desc) = 1
)

select
    k.ticker,
    k.known_from,
    t.period_end as ttm_period_end,
    t.revenue_ttm,
    t.net_income_ttm,
    t.ebitda_ttm,
    t.free_cash_flow_ttm,
    t.capex_ttm,
    b.balance_sheet_date,
    b.cash,
    b.total_debt,
    b.total_debt - b.cash as net_debt
from knowledge_dates as k
left join latest_ttm as t on t.ticker = k.ticker and t.known_from = k.known_from
left join latest_balance as b on b.ticker = k.ticker and b.known_from = k.known_from
