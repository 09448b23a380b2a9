-- grain: ticker, period
--
-- Price return per company and benchmark (SPX, NDX) over each calendar year (period '2023'),
-- year to date ('YTD'), and the trailing one and three years ('1Y', '3Y'), as a fraction
-- (2.39 = +239%).
--
-- A period starts at the last close on or before its start (for '2023', the close of the last
-- trading day of 2022: a year's return runs from the previous year's final close) and ends at
-- the last close on or before its end; YTD, 1Y and 3Y end at each ticker's latest close. A
-- calendar year is listed once the prices go past its end, and a period only when a close
-- exists within 7 days before its start (no return from a stale or missing start).
-- Closes are the price source's (split-adjusted; Stooq and Yahoo also adjust for dividends).
with prices as (
    select ticker, date, close from staging.prices
),

bounds as (
    select ticker, max(date) as last_date from prices group by ticker
),

periods as (
    select distinct
        p.ticker,
        year(p.date)::varchar as period,
        make_date(year(p.date) - 1, 12, 31) as start_target,
        make_date(year(p.date), 12, 31) as end_target
    from prices as p
    inner join bounds as b on b.ticker = p.ticker
    where b.last_date > make_date(year(p.date), 12, 31)
    union all
    select ticker, 'YTD', make_date(year(last_date) - 1, 12, 31), last_date from bounds
    union all
    select ticker, '1Y', (last_date - interval 1 year)::date, last_date from bounds
    union all
    select ticker, '3Y', (last_date - interval 3 year)::date, last_date from bounds
),

starts as (
    select pe.*, p.date as start_date, p.close as start_close
    from periods as pe
    asof inner join prices as p on p.ticker = pe.ticker and pe.start_target >= p.date
),

ends as (
    select s.*, p.date as end_date, p.close as end_close
    from starts as s
    asof inner join prices as p on p.ticker = s.ticker and s.end_target >= p.date
)

select
    ticker,
    period,
    start_date,
    end_date,
    start_close,
    end_close,
    end_close / start_close - 1 as price_return
from ends
where start_target - start_date <= 7 and end_date > start_date
