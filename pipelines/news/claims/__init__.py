"""Figures in news text → claims: which company, which metric, which period.

Pure functions. Input: articles (id, publication time, title, body) and the figures that
:mod:`pipelines.news.numbers` found in their sentences; output: one claim per figure
that names (or implies) a metric the filings report, with the company and the period resolved.

How each part is resolved, in the order a reader would:

* **Company**: names and tickers from ``pipelines/seeds/news_companies.csv`` (English and
  Chinese names, "(NASDAQ: NVDA)", "NVDA.US", cashtags such as "$英伟达 (NVDA.US)$"). A figure
  takes the nearest company named before it in its sentence (else after it); a sentence that
  names none ("It", "the company") speaks of the company in focus: the last one named alone.
  A figure after a list of companies ("Microsoft, Alphabet, Amazon and Meta together") is a
  sum over several companies: ticker null.
* **Metric**: (words in ``pipelines/seeds/news_metric_words.csv``) the nearest metric word
  before the figure, unless another level of money lies
  between them ("revenue of $84.7 billion and net income of $23.6 billion"), or one right
  after it ("$52.5 billion on capital expenditures"). A growth rate ("up 14%", "同比增长122%")
  takes the metric it follows and becomes ``<metric>_yoy`` or ``<metric>_qoq``. A figure
  "compared with" an earlier one in the sentence takes that one's metric and the period a year
  (or quarter) before. Segments (AWS, Google Cloud, 数据中心) come from
  ``pipelines/seeds/news_segments.csv``.
* **Period**: "second quarter", "Q2", "2Q24", "first half", "H1", "fiscal 2025", "FY25",
  "2025财年第二季度", "上半年", "this quarter", "last year", "the same period last year", resolved
  against the publication date: a quarter named without a year is the latest such quarter
  ended in the 200 days before publication (else the next one). Periods are read in the
  company's own fiscal labels unless the text says "calendar"; for a company whose fiscal year
  is not the calendar year the note says so (the checks try the other reading too).
* **Forecasts**: a figure after "expects", "outlook", "guidance", "预计"... or whose period ends
  after publication is a forecast: kept, and never checked against filings.
* **Currency**: values in other currencies get ``value_usd`` at the ECB reference rate of the
  publication date (the last rate on or before it).

Modules, in the order a figure goes through them: :mod:`.sentences` (article text →
sentences), :mod:`.vocabulary` (the seed words), :mod:`.subjects` (company),
:mod:`.metrics` (metric and segment), :mod:`.periods` with :mod:`.calendar` (period dates),
:mod:`.resolver` (the walk over an article and the claim rows, :data:`.schema.CLAIM_SCHEMA`),
:mod:`.fx` (USD values).
"""
