-- Every vintage of every discrete quarter: the value that was known from `filed` on (until
-- `superseded`, null for the latest), for company totals (segment = '') and segments. A
-- vintage starts when a filing changes a figure; later filings repeating it (comparative
-- columns) make no new one, so `filed` is when the value was first reported. Its concept is
-- the latest filing's (a re-report under a new tag relabels the value, not its date).
--
-- Each formula of staging.int_quarter_formulas is evaluated on every date a filing changed
-- one of its inputs (its three-month fact, or the year-to-date facts it is derived from),
-- each input taking its latest value filed on or before that date. A formula's vintage is
-- the quarter's vintage while no better formula (a reported quarter beats a derived one) has
-- all its inputs known. `accession` is the filing that made the vintage (the latest input);
-- `concept` is the concept used, or 'A - B' when a tag switch falls between the year-to-date
-- facts (A the longer period's concept, B the shorter's).
with series as (
    -- integer ids keep the joins below cheap
    select row_number() over (order by ticker, metric, segment) as series_id, *
    from (select distinct ticker, metric, segment from staging.int_quarter_formulas)
),

formulas as (
    select s.series_id, f.*
    from staging.int_quarter_formulas as f
    inner join series as s
        on s.ticker = f.ticker and s.metric = f.metric and s.segment = f.segment
),

inputs as (
    select formula_id, series_id, 1 as sign, plus_start as period_start, plus_end as period_end
    from formulas
    union all
    select formula_id, series_id, -1, m1_start, m1_end from formulas where m1_end is not null
    union all
    select formula_id, series_id, -1, m2_start, m2_end from formulas where m2_end is not null
    union all
    select formula_id, series_id, -1, m3_start, m3_end from formulas where m3_end is not null
),

filing_days as (
    -- one value per period and filing date (the last accession of the day)
    select s.series_id, v.period_start, v.period_end, v.filed, v.value, v.concept, v.accession
    from staging.stg_metric_facts as v
    inner join series as s
        on s.ticker = v.ticker and s.metric = v.metric and s.segment = v.segment
    where v.period_type = 'duration' and v.months is not null
    qualify row_number() over (
        partition by s.series_id, v.period_start, v.period_end, v.filed
        order by v.accession desc
    ) = 1
),

runs as (
    -- runs of filings reporting the same value for a period
    select
        *,
        sum(changed) over (
            partition by series_id, period_start, period_end
            order by filed
            rows between unbounded preceding and current row
        ) as run
    from (
        select
            *,
            (lag(value) over (
                partition by series_id, period_start, period_end order by filed
            ) is distinct from value)::integer as changed
        from filing_days
    )
),

vintages as (
    -- a later filing repeating a value (a comparative column) makes no new vintage: the
    -- value is known from the first filing of its run, under the latest filing's concept
    select
        row_number() over () as vintage_id,
        series_id,
        period_start,
        period_end,
        filed,
        value,
        last_concept as concept,
        accession
    from (
        select
            *,
            last_value(concept) over (
                partition by series_id, period_start, period_end, run
                order by filed
                rows between unbounded preceding and unbounded following
            ) as last_concept
        from runs
    )
    where changed = 1
),

concepts as (
    select row_number() over (order by concept) as concept_id, concept
    from (select distinct concept from vintages)
),

formula_events as (
    select distinct i.formula_id, v.filed as as_of
    from inputs as i
    inner join vintages as v
        on v.series_id = i.series_id
        and v.period_start = i.period_start
        and v.period_end = i.period_end
),

evaluated as (
    select e.formula_id, e.as_of, i.sign, v.value, k.concept_id, v.vintage_id, v.filed
    from formula_events as e
    inner join inputs as i on i.formula_id = e.formula_id
    asof left join vintages as v
        on v.series_id = i.series_id
        and v.period_start = i.period_start
        and v.period_end = i.period_end
        and e.as_of >= v.filed
    left join concepts as k on k.concept = v.concept
),

formula_vintages as (
    select
        formula_id,
        as_of,
        sum(sign * value) as value,
        max(vintage_id) filter (where filed = as_of) as made_by,
        any_value(concept_id) filter (where sign = 1) as plus_concept,
        min(concept_id) filter (where sign = -1) as minus_first,
        max(concept_id) filter (where sign = -1) as minus_last
    from evaluated
    group by formula_id, as_of
    having count(value) = count(*)
),

complete as (
    select formula_id, min(as_of) as complete_from
    from formula_vintages
    group by formula_id
),

better as (
    -- the first date on which a better formula of the same quarter is complete
    select f.formula_id, min(c.complete_from) as better_from
    from formulas as f
    inner join formulas as g
        on g.series_id = f.series_id
        and g.quarter_start = f.quarter_start
        and g.quarter_end = f.quarter_end
        and (g.formula_rank < f.formula_rank
            or (g.formula_rank = f.formula_rank and g.formula_id < f.formula_id))
    inner join complete as c on c.formula_id = g.formula_id
    group by f.formula_id
),

chosen as (
    select f.series_id, f.quarter_start, f.quarter_end, f.derivation, v.*
    from formula_vintages as v
    inner join formulas as f on f.formula_id = v.formula_id
    left join better as b on b.formula_id = v.formula_id
    where b.better_from is null or v.as_of < b.better_from
)

select
    s.ticker,
    s.metric,
    s.segment,
    c.quarter_start,
    c.quarter_end,
    c.value,
    concat_ws(
        ' - ',
        plus.concept,
        case when c.minus_first <> c.plus_concept then first.concept end,
        case when c.minus_last not in (c.plus_concept, c.minus_first) then last.concept end
    ) as concept,
    c.derivation,
    made.accession,
    c.as_of as filed,
    lead(c.as_of) over (
        partition by c.series_id, c.quarter_start, c.quarter_end order by c.as_of
    ) as superseded
from chosen as c
inner join series as s on s.series_id = c.series_id
inner join vintages as made on made.vintage_id = c.made_by
inner join concepts as plus on plus.concept_id = c.plus_concept
left join concepts as first on first.concept_id = c.minus_first
left join concepts as last on last.concept_id = c.minus_last
