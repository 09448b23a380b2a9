-- The facts of the standard metrics: one row per company, metric, segment, period and
-- filing, holding the best concept candidate that filing reports for that period.
--
-- Concepts come from the metric map (staging.metric_map): a company's own rows replace the
-- default rows for that metric. Only periodic reports count (10-K, 10-Q, their transition
-- and amended forms, 20-F, 40-F, 6-K, and 8-Ks that recast financial statements): proxy
-- statements (the DEF 14A pay-versus-performance table) and offering documents repeat
-- figures out of their context. Company totals are the facts without dimensions
-- (segment = ''); a segment fact carries a mapped axis/member of staging.segment_map and at
-- most srt:ConsolidationItemsAxis = us-gaap:OperatingSegmentsMember besides; a product line
-- (a mapped srt:ProductOrServiceAxis member) may also carry the business segment it lies in
-- (Alphabet's YouTube ads within Google Services). `months` is the length of a duration in
-- months (3, 6, 9 or 12: the day ranges of staging.period_lengths, which allow for 52/53-week
-- calendars) or null for any other length; instants have none.
with tickers as (
    select distinct ticker from staging.facts
),

effective_map as (
    -- per company: its own rows for a metric, else the default rows
    select t.ticker, m.metric, m.taxonomy, m.concept, m.priority
    from tickers as t
    cross join staging.metric_map as m
    where m.ticker is null
        and not exists (
            select 1
            from staging.metric_map as own
            where own.ticker = t.ticker and own.metric = m.metric
        )
    union all
    select ticker, metric, taxonomy, concept, priority
    from staging.metric_map
    where ticker is not null
),

candidates as (
    select e.*, d.period_type, d.additive, d.unit
    from effective_map as e
    inner join staging.metric_definitions as d on d.metric = e.metric
),

relevant as (
    -- a cheap first cut: most facts are concepts no metric uses
    select *
    from staging.facts
    where concept in (select concept from staging.metric_map)
        and form in (
            '10-K', '10-K/A', '10-KT', '10-KT/A', '10-Q', '10-Q/A', '10-QT', '10-QT/A',
            '20-F', '20-F/A', '40-F', '40-F/A', '6-K', '6-K/A', '8-K', '8-K/A'
        )
),

mapped as (
    select
        f.ticker,
        f.cik,
        c.metric,
        c.period_type,
        c.additive,
        c.priority,
        f.taxonomy,
        f.concept,
        f.period_start,
        f.period_end,
        f.value,
        f.accession,
        f.form,
        f.filed,
        f.source,
        f.dimensions
    from relevant as f
    inner join candidates as c
        on c.ticker = f.ticker
        and c.taxonomy = f.taxonomy
        and c.concept = f.concept
        and c.unit = f.unit
    where (c.period_type = 'instant') = (f.period_start is null)
),

with_segment as (
    select m.*, '' as segment, 0 as segment_priority
    from mapped as m
    where m.dimensions is null
    union all
    select m.*, s.segment, s.priority as segment_priority
    from mapped as m
    inner join staging.segment_map as s
        on s.ticker = m.ticker and map_extract_value(m.dimensions, s.axis) = s.member
    where cardinality(m.dimensions) = 1
        or (
            cardinality(m.dimensions) = 2
            and map_extract_value(m.dimensions, 'srt:ConsolidationItemsAxis')
            = 'us-gaap:OperatingSegmentsMember'
        )
        or (
            cardinality(m.dimensions) = 2
            and s.axis = 'srt:ProductOrServiceAxis'
            and map_extract_value(m.dimensions, 'us-gaap:StatementBusinessSegmentsAxis') is not null
        )
),

best_in_filing as (
    select *
    from with_segment
    qualify row_number() over (
        partition by ticker, metric, segment, period_start, period_end, accession
        order by priority, segment_priority, cardinality(dimensions) nulls first, source, value desc
    ) = 1
)

select
    b.ticker,
    b.cik,
    b.metric,
    b.segment,
    b.period_type,
    b.additive,
    b.taxonomy,
    b.concept,
    b.period_start,
    b.period_end,
    b.period_end - b.period_start + 1 as duration_days,
    l.months,
    -- every metric is in USD or shares: two decimals keep values exact and readable
    b.value::decimal(38, 2) as value,
    b.accession,
    b.form,
    b.filed,
    b.source
from best_in_filing as b
left join staging.period_lengths as l
    on b.period_end - b.period_start + 1 between l.min_days and l.max_days
