"""Run reports: JSON (the model), markdown and a self-contained HTML page."""

from tools.recon.report.html import render_html
from tools.recon.report.markdown import render_markdown
from tools.recon.report.write import write_reports

__all__ = ["render_html", "render_markdown", "write_reports"]
