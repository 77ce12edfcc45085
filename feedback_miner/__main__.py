"""`python -m feedback_miner` is the `feedback-miner` command."""

from feedback_miner.cli import app

app(prog_name="feedback-miner")
