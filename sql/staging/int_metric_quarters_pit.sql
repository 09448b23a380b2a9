-- Every vintage of every discrete quarter: the value that was known from `filed` on (until
-- `superseded`, null for the latest), for company totals (segment = '') and segments.
--
-- At each filing date that touches an input of a quarter (its three-month fact, or the
-- year-to-date facts it is derived from) each input takes its latest value filed on or
-- before that date, and the best formula of staging.int_quarter_formulas whose inputs are
-- all known gives the quarter (a reported quarter wins over a derived one). That date makes
-- a vintage when the chosen formula's latest input was filed on it.
-- `accession` is the filing that made the vintage (the latest input); `concept` is the
-- concept used, or 'A - B' when a tag switch falls between the year-to-date facts (A the
-- longer period's concept, B the shorter's).
with formulas as (
    select * from staging.int_quarter_formulas
),

inputs as (
    select formula_id, ticker, metric, segment, quarter_start, quarter_end,
        1 as sign, plus_start as period_start, plus_end as period_end
    from formulas
    union all
    select formula_id, ticker, metric, segment, quarter_start, quarter_end,
        -1, m1_start, m1_end
    from formulas where m1_end is not null
    union all
    select formula_id, ticker, metric, segment, quarter_start, quarter_end,
        -1, m2_start, m2_end
    from formulas where m2_end is not null
    union all
    select formula_id, ticker, metric, segment, quarter_start, quarter_end,
        -1, m3_start, m3_end
    from formulas where m3_end is not null
),

vintages as (
    -- one value per period and filing date (the last accession of the day)
    select ticker, metric, segment, period_start, period_end, filed, value, concept, accession
    from staging.stg_metric_facts
    where period_type = 'duration' and months is not null
    qualify row_number() over (
        partition by ticker, metric, segment, period_start, period_end, filed
        order by accession desc
    ) = 1
),

events as (
    select distinct i.ticker, i.metric, i.segment, i.quarter_start, i.quarter_end, v.filed as as_of
    from inputs as i
    inner join vintages as v
        on v.ticker = i.ticker and v.metric = i.metric and v.segment = i.segment
        and v.period_start = i.period_start and v.period_end = i.period_end
),

evaluated as (
    select
        e.ticker, e.metric, e.segment, e.quarter_start, e.quarter_end, e.as_of,
        i.formula_id, i.sign, v.value, v.concept, v.accession, v.filed
    from events as e
    inner join inputs as i
        on i.ticker = e.ticker and i.metric = e.metric and i.segment = e.segment
        and i.quarter_start = e.quarter_start and i.quarter_end = e.quarter_end
    asof left join vintages as v
        on v.ticker = i.ticker and v.metric = i.metric and v.segment = i.segment
        and v.period_start = i.period_start and v.period_end = i.period_end
        and e.as_of >= v.filed
),

per_formula as (
    select
        ticker, metric, segment, quarter_start, quarter_end, as_of, formula_id,
        count(*) as inputs,
        count(value) as known,
        sum(sign * value) as value,
        max(filed) as inputs_filed,
        arg_max(accession, strftime(filed, '%Y-%m-%d') || accession) as accession,
        any_value(concept) filter (where sign = 1) as plus_concept,
        list_sort(list_distinct(list(concept) filter (where sign = -1))) as minus_concepts
    from evaluated
    group by all
),

chosen as (
    select
        p.* exclude (plus_concept, minus_concepts),
        f.derivation,
        array_to_string(
            list_prepend(
                p.plus_concept, list_filter(p.minus_concepts, c -> c <> p.plus_concept)
            ),
            ' - '
        ) as concept
    from per_formula as p
    inner join formulas as f on f.formula_id = p.formula_id
    where p.known = p.inputs
    qualify row_number() over (
        partition by p.ticker, p.metric, p.segment, p.quarter_start, p.quarter_end, p.as_of
        order by f.formula_rank, p.formula_id
    ) = 1
),

vintages_made as (
    -- a date that only touched inputs of a formula not chosen makes no new vintage
    select * from chosen where inputs_filed = as_of
)

select
    ticker,
    metric,
    segment,
    quarter_start,
    quarter_end,
    value,
    concept,
    derivation,
    accession,
    as_of as filed,
    lead(as_of) over (
        partition by ticker, metric, segment, quarter_start, quarter_end order by as_of
    ) as superseded
from vintages_made
