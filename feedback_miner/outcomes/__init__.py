"""Outcomes stage: link themes to churn and low CSAT/NPS, rank pain points."""

from feedback_miner.outcomes.link import EXTRA_COLUMNS, PAIN_POINT_COLUMNS, OutcomeResult, link_outcomes

__all__ = ["EXTRA_COLUMNS", "PAIN_POINT_COLUMNS", "OutcomeResult", "link_outcomes"]
