"""The columns of ``marts.news_claims`` (the contract is :data:`pipelines.core.tables.NEWS_CLAIMS`).

``figure`` is the figure as written; ``subject`` is 'company', 'segment' (``segment`` names it)
or 'group' (``group_tickers`` lists the companies, comma-separated, when known);
``low``/``high`` make a bound ("more than", "nearly", "超过") an inequality; ``unresolved``
lists what the resolution could not settle (a claim with any is never called a mismatch);
``confidence`` (0-1) falls with each guess; ``resolution`` says how each part was resolved.
"""

from __future__ import annotations

from pipelines.core.tables import NEWS_CLAIMS

CLAIM_SCHEMA = NEWS_CLAIMS.columns

# Doubts in ``unresolved`` that the checks treat apart: a period read in fiscal labels though the
# text names no basis (settled when both readings give the same filed value), and a subject the
# sentence does not name (never checked at all).
PERIOD_DOUBT = "period basis:"
SUBJECT_UNRESOLVED = "subject unresolved:"
