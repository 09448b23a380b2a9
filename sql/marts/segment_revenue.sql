-- grain: ticker, segment, period_start, period_end
--
-- Revenue by business segment (AWS, Google Cloud, Intelligent Cloud, NVIDIA Compute &
-- Networking, Meta Family of Apps and Reality Labs, Tesla Automotive and Energy, ...) and by
-- revenue line, from the dimensional facts of the filing documents. Amounts in USD; yoy as a
-- fraction.
--
-- `segment` is the readable name of staging.segment_map; `kind` says whether it is a business
-- segment ('segment': they add up to the company total) or a revenue line filed under
-- srt:ProductOrServiceAxis ('product line': Google Search & other, YouTube ads, iPhone, ...).
-- One row per discrete quarter (reported or derived like marts.metric_quarterly) and per
-- fiscal year (fiscal_quarter null), as last filed. yoy compares with the same period a year before; null when it is
-- missing.
with quarterly as (
    select
        p.ticker,
        p.segment,
        q.fiscal_year,
        q.fiscal_quarter,
        p.quarter_start as period_start,
        p.quarter_end as period_end,
        p.value as revenue,
        p.derivation,
        p.accession,
        p.filed
    from staging.int_metric_quarters_pit as p
    inner join staging.int_fiscal_quarters as q
        on q.ticker = p.ticker
        and q.period_start = p.quarter_start
        and q.period_end = p.quarter_end
    where p.metric = 'revenue' and p.segment <> '' and p.superseded is null
),

annual as (
    select
        ticker,
        segment,
        fiscal_year,
        null::integer as fiscal_quarter,
        period_start,
        period_end,
        value as revenue,
        'reported' as derivation,
        accession,
        filed
    from staging.int_metric_annual
    where metric = 'revenue' and segment <> ''
),

periods as (
    select * from quarterly
    union all
    select * from annual
),

kinds as (
    -- a business segment (reported as such; segments add up to the company total) or a
    -- revenue line of the srt:ProductOrServiceAxis disaggregation (lines overlap segments)
    select
        ticker,
        segment,
        case
            when bool_or(axis = 'us-gaap:StatementBusinessSegmentsAxis') then 'segment'
            else 'product line'
        end as kind
    from staging.segment_map
    group by ticker, segment
)

select
    s.ticker,
    s.segment,
    s.period_start,
    s.period_end,
    s.revenue,
    s.revenue::double / nullif(a.revenue::double, 0) - 1 as yoy,
    s.fiscal_year,
    s.fiscal_quarter,
    s.derivation,
    s.accession,
    s.filed,
    k.kind
from periods as s
left join kinds as k
    on k.ticker = s.ticker and k.segment = s.segment
left join periods as a
    on a.ticker = s.ticker
    and a.segment = s.segment
    and a.fiscal_year = s.fiscal_year - 1
    and a.fiscal_quarter is not distinct from s.fiscal_quarter
