-- grain: ticker, period
--
-- Was the rally earnings or a re-rating? Each company's price return over a period of
-- marts.price_returns split into earnings growth and multiple change, with
-- (1 + price_return) = (1 + earnings_growth) x (1 + multiple_change).
--
-- Earnings are TTM net income per share as known on the period's start and end dates
-- (marts.valuation_daily: point in time, split-adjusted shares), so multiple_change is the
-- change in P/E. Both are null when earnings per share is missing or not positive at either
-- end (growth from a loss has no meaning). Benchmarks have no earnings and are not listed.
with eps as (
    select
        ticker,
        date,
        case
            when net_income_ttm > 0 and shares_outstanding > 0
                then net_income_ttm / shares_outstanding
        end as eps_ttm
    from marts.valuation_daily
),

growth as (
    select
        r.ticker,
        r.period,
        r.start_date,
        r.price_return,
        e1.eps_ttm / e0.eps_ttm - 1 as earnings_growth
    from marts.price_returns as r
    inner join (select distinct ticker from marts.valuation_daily) as c on c.ticker = r.ticker
    left join eps as e0 on e0.ticker = r.ticker and e0.date = r.start_date
    left join eps as e1 on e1.ticker = r.ticker and e1.date = r.end_date
)

select
    ticker,
    period,
    price_return,
    earnings_growth,
    (1 + price_return) / (1 + earnings_growth) - 1 as multiple_change
from growth
