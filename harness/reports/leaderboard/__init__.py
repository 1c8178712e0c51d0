"""``harness leaderboard``: rank tracked runs and external run files, with paired significance.

- :mod:`.entries` the rows' data (one system: mean and per-query scores, cost figures);
- :mod:`.mlflow_source` reads entries from any MLflow tracking URI;
- :mod:`.run_files` turns TREC run files into entries on a dataset's qrels;
- :mod:`.significance` paired tests vs a baseline (ranx's), corrected, with effect sizes;
- :mod:`.board` ranks entries into a table; :mod:`.render` writes it as text,
  Markdown, CSV or LaTeX; :mod:`.html` as a static page with sortable columns and plots.
"""

from harness.reports.leaderboard.board import Leaderboard, build_leaderboard
from harness.reports.leaderboard.entries import Entry

__all__ = ["Entry", "Leaderboard", "build_leaderboard"]
