"""feedback-miner: customer feedback -> themes, sentiment, churn-linked pain points."""

__version__ = "0.1.0"
