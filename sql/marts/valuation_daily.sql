-- grain: ticker, date
--
-- What the market paid for each company, per trading day, without look-ahead: on each day
-- only figures filed on or before that day are used (a 10-Q filed two days later does not
-- change the day's P/E). Amounts in USD; multiples and yields as plain ratios.
--
-- shares_outstanding is the latest cover-page count filed by that day
-- (staging.shares_outstanding: share classes summed, split-adjusted like the prices), so
-- market_cap = close x shares_outstanding is continuous across splits. TTM figures and
-- net_debt come from staging.int_valuation_fundamentals_pit. enterprise_value = market_cap +
-- net_debt. pe = market_cap / net_income_ttm, ps = market_cap / revenue_ttm, ev_ebitda =
-- enterprise_value / ebitda_ttm, fcf_yield = (operating_cash_flow - capex, TTM) / market_cap,
-- capex_to_revenue_ttm = capex_ttm / revenue_ttm. A multiple whose denominator is missing or
-- not positive is null (never infinite or negative); so is ev_ebitda when enterprise_value is
-- not positive.
with share_filings as (
    select distinct ticker, filed as known_from from staging.shares_outstanding
),

shares_known as (
    -- the latest count (by count date) among those filed on or before each filing date
    select
        f.ticker,
        f.known_from,
        arg_max(s.shares_outstanding, strftime(s.period_end, '%Y-%m-%d') || strftime(s.filed, '%Y-%m-%d'))
            as shares_outstanding
    from share_filings as f
    inner join staging.shares_outstanding as s
        on s.ticker = f.ticker and s.filed <= f.known_from
    group by f.ticker, f.known_from
),

daily as (
    select
        p.ticker,
        p.date,
        p.close,
        s.shares_outstanding,
        p.close * s.shares_outstanding as market_cap,
        f.revenue_ttm,
        f.net_income_ttm,
        f.ebitda_ttm,
        f.free_cash_flow_ttm,
        f.capex_ttm,
        f.net_debt
    from staging.prices as p
    asof inner join shares_known as s
        on s.ticker = p.ticker and p.date >= s.known_from
    asof left join staging.int_valuation_fundamentals_pit as f
        on f.ticker = p.ticker and p.date >= f.known_from
)

select
    ticker,
    date,
    close,
    shares_outstanding,
    market_cap,
    revenue_ttm,
    net_income_ttm,
    ebitda_ttm,
    net_debt,
    market_cap + net_debt as enterprise_value,
    case when net_income_ttm > 0 then market_cap / net_income_ttm end as pe,
    case when revenue_ttm > 0 then market_cap / revenue_ttm end as ps,
    case
        when ebitda_ttm > 0 and market_cap + net_debt > 0
            then (market_cap + net_debt) / ebitda_ttm
    end as ev_ebitda,
    case when market_cap > 0 then free_cash_flow_ttm / market_cap end as fcf_yield,
    case when revenue_ttm > 0 then capex_ttm / revenue_ttm end as capex_to_revenue_ttm
from daily
