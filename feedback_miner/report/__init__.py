"""report stage: the analysts' ``report.html`` and the product teams' ``pain_points.md``.

>>> html = render_report(ReportInput(manifest, themes, pain_points, quotes, history, changes, methods), cfg.report)
"""

from feedback_miner.report.data import ReportInput
from feedback_miner.report.render import build_context, render_brief, render_report

__all__ = ["ReportInput", "build_context", "render_brief", "render_report"]
