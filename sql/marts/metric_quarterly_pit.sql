-- grain: ticker, metric, fiscal_year, fiscal_quarter, filed
--
-- Point in time: every vintage of every company quarter of every standard metric, with the
-- date it was filed and the date a later filing superseded it (null for the current value).
-- Amounts in USD (shares for diluted_shares).
--
-- What was known on day D: `where filed <= D and (superseded is null or superseded > D)`.
-- Durations are discrete quarters (see staging.int_metric_quarters_pit for the
-- derivations); instants (cash, total_debt) are the balance at the quarter's end, with a null
-- period_start.
with durations as (
    select
        p.ticker,
        p.metric,
        q.fiscal_year,
        q.fiscal_quarter,
        q.calendar_year,
        q.calendar_quarter,
        p.quarter_start as period_start,
        p.quarter_end as period_end,
        p.value,
        p.concept,
        p.derivation,
        p.accession,
        p.filed,
        p.superseded
    from staging.int_metric_quarters_pit as p
    inner join staging.int_fiscal_quarters as q
        on q.ticker = p.ticker
        and q.period_start = p.quarter_start
        and q.period_end = p.quarter_end
    where p.segment = ''
),

quarter_ends as (
    select *
    from staging.int_fiscal_quarters
    qualify row_number() over (partition by ticker, period_end order by period_start) = 1
),

instant_days as (
    select ticker, metric, period_end, value, concept, accession, filed
    from staging.stg_metric_facts
    where period_type = 'instant' and segment = ''
    qualify row_number() over (
        partition by ticker, metric, period_end, filed order by accession desc
    ) = 1
),

instant_vintages as (
    -- as for durations: a repeated balance (next year's comparative) is no new vintage
    select ticker, metric, period_end, value, latest_concept as concept, accession, filed
    from (
        select
            *,
            lag(value) over same_balance as previous_value,
            last_value(concept) over (
                same_balance rows between unbounded preceding and unbounded following
            ) as latest_concept
        from instant_days
        window same_balance as (partition by ticker, metric, period_end order by filed)
    )
    where previous_value is distinct from value
),

instants as (
    select
        v.ticker,
        v.metric,
        q.fiscal_year,
        q.fiscal_quarter,
        q.calendar_year,
        q.calendar_quarter,
        null::date as period_start,
        v.period_end,
        v.value,
        v.concept,
        'reported' as derivation,
        v.accession,
        v.filed,
        lead(v.filed) over (
            partition by v.ticker, v.metric, v.period_end order by v.filed
        ) as superseded
    from instant_vintages as v
    inner join quarter_ends as q
        on q.ticker = v.ticker and q.period_end = v.period_end
)

select * from durations
union all
select * from instants
