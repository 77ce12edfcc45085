"""Outcomes stage: link themes to churn and low CSAT/NPS, rank pain points.

Entry point: :func:`link_outcomes` (statements, documents, customers, themes, cfg.outcomes)
-> :class:`OutcomeResult` (``pain_points``, ``theme_stats``, ``controls_used``, ``notes``).

Method, in one place:

* **Mentions.** A customer mentions a theme when any of their statements carries it (broad
  theme or sub-theme); a statement without customer id counts for its response alone.
* **Churn** (``stats.risk_table``), among customers who wrote feedback: mentioners vs the rest.
  Risk ratio with a log-RR Wald (Katz) interval, 0.5 added to every cell of a table with a zero;
  risk difference with Newcombe's hybrid score interval; Fisher's exact p when an expected count
  is below 5, Pearson chi-square otherwise; Benjamini-Hochberg q within broad themes and within
  sub-themes, over themes with at least ``min_customers`` customers.
* **Low scores**, per scored response: low = CSAT <= ``low_csat_max`` or NPS <=
  ``nps_detractor_max``; the same 2x2 statistics; mean score difference with a Welch interval
  (on the scale most responses use); ``nps_impact`` = NPS points regained if the theme's
  detractors were passives = -100 x theme detractors / NPS responses.
* **Adjusted model** (``model.fit_adjusted``): logistic regression of churn on the indicators
  of the broad themes with churners and non-churners among their mentioners, plus the controls
  present (segment and plan dummies, log revenue, tenure in years). Control levels with no churn
  variation are merged into the reference; if maximum likelihood still fails, an L2-penalized
  fit with bootstrap intervals (``bootstrap`` resamples) replaces it, and the notes say so.
* **Impact.** ``attributable_churn`` = risk difference x mentioners (sign kept);
  ``attributable_revenue`` = churned mentioners' revenue x (rate - baseline) / rate.
* **Ranking** (``rank.priority_score``): excess share of churn and of low scores, each weighted
  by the confidence of its q (churn uses the larger of the raw and adjusted q, so a theme that
  only looks bad because of who mentions it falls back), times negativity and recent growth.
  ``evidence``: strong (q < 0.01), moderate (q < alpha), weak, insufficient (too few customers,
  not ranked, listed last).
"""

from feedback_miner.outcomes.link import EXTRA_COLUMNS, PAIN_POINT_COLUMNS, OutcomeResult, link_outcomes

__all__ = ["EXTRA_COLUMNS", "PAIN_POINT_COLUMNS", "OutcomeResult", "link_outcomes"]
