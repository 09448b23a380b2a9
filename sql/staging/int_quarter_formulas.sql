-- Every way to obtain each discrete quarter of each metric (and segment), in order of
-- preference (formula_rank):
--
-- 1 'reported': a three-month fact as filed. 2+ a year-to-date fact minus the year-to-date
-- fact one quarter shorter, within the same fiscal year (same start date, a fiscal-year
-- start): Q2 = 6M - Q1, Q3 = 9M - 6M ('ytd_difference'), Q4 = FY - 9M ('annual_minus_ytd').
-- When the shorter year-to-date fact is missing, the subtrahend may be a shorter one plus
-- the reported quarters that follow it, e.g. Q4 = FY - (Q1 + Q2 + Q3); rank 2 + the number
-- of such quarters. Only additive metrics are derived. A derived quarter is as long as a
-- quarter of staging.period_lengths (84 to 98 days).
-- plus_* is the period added, m1_* to m3_* the periods subtracted.
with facts as (
    select distinct ticker, metric, segment, additive, period_start, period_end, months
    from staging.stg_metric_facts
    where period_type = 'duration' and months is not null
),

ytd as (
    select f.*
    from facts as f
    inner join staging.int_fiscal_years as y
        on y.ticker = f.ticker and y.fy_start = f.period_start
    where f.additive
),

quarters as (
    select * from facts where months = 3
),

chain0 as (
    select
        ticker, metric, segment, period_start as ytd_start, period_end as chain_end,
        period_start as m1_start, period_end as m1_end,
        null::date as m2_start, null::date as m2_end,
        null::date as m3_start, null::date as m3_end,
        0 as links
    from ytd
    where months < 12
),

chain1 as (
    select
        c.ticker, c.metric, c.segment, c.ytd_start, q.period_end as chain_end,
        c.m1_start, c.m1_end, q.period_start as m2_start, q.period_end as m2_end,
        null::date as m3_start, null::date as m3_end,
        1 as links
    from chain0 as c
    inner join quarters as q
        on q.ticker = c.ticker and q.metric = c.metric and q.segment = c.segment
        and q.period_start = c.chain_end + 1
    where q.additive
),

chain2 as (
    select
        c.ticker, c.metric, c.segment, c.ytd_start, q.period_end as chain_end,
        c.m1_start, c.m1_end, c.m2_start, c.m2_end,
        q.period_start as m3_start, q.period_end as m3_end,
        2 as links
    from chain1 as c
    inner join quarters as q
        on q.ticker = c.ticker and q.metric = c.metric and q.segment = c.segment
        and q.period_start = c.chain_end + 1
    where q.additive
),

chains as (
    select * from chain0
    union all
    select * from chain1
    union all
    select * from chain2
),

reported as (
    select
        ticker, metric, segment,
        period_start as quarter_start, period_end as quarter_end,
        'reported' as derivation, 1 as formula_rank,
        period_start as plus_start, period_end as plus_end,
        null::date as m1_start, null::date as m1_end,
        null::date as m2_start, null::date as m2_end,
        null::date as m3_start, null::date as m3_end
    from quarters
),

derived as (
    select
        a.ticker, a.metric, a.segment,
        c.chain_end + 1 as quarter_start, a.period_end as quarter_end,
        case when a.months = 12 then 'annual_minus_ytd' else 'ytd_difference' end as derivation,
        2 + c.links as formula_rank,
        a.period_start as plus_start, a.period_end as plus_end,
        c.m1_start, c.m1_end, c.m2_start, c.m2_end, c.m3_start, c.m3_end
    from ytd as a
    inner join chains as c
        on c.ticker = a.ticker and c.metric = a.metric and c.segment = a.segment
        and c.ytd_start = a.period_start
    inner join staging.period_lengths as l
        on l.months = 3 and a.period_end - c.chain_end between l.min_days and l.max_days
    where a.months >= 6
),

formulas as (
    select * from reported
    union all
    select * from derived
)

select
    row_number() over (
        order by ticker, metric, segment, quarter_start, quarter_end, formula_rank,
            m1_end, m2_end, m3_end
    ) as formula_id,
    *
from formulas
