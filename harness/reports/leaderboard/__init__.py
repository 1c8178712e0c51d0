"""``harness leaderboard``: rank tracked runs and external run files, with paired significance.

- :mod:`.entries` the rows' data (one system: mean and per-query scores, cost figures);
- :mod:`.mlflow_source` reads entries from any MLflow tracking URI;
- :mod:`.run_files` turns TREC run files into entries on a dataset's qrels;
- :mod:`.names` readable system names, first-stage identities, short sources;
- :mod:`.significance` paired tests vs a baseline (ranx's), corrected, with effect sizes;
- :mod:`.bootstrap` paired bootstrap 95% CIs, W/T/L, judged@10;
- :mod:`.baseline` the baseline rule (named, else the first stage the others build on, else the best);
- :mod:`.board` ranks entries into a table, one per dataset; :mod:`.render` writes it as text,
  Markdown, CSV or LaTeX; :mod:`.html` as a static page with sortable columns and plots;
- :mod:`.suite` and :mod:`.suite_render`: ``--suite NAME``, a suite's systems with a column per dataset,
  the mean and each dataset's markers, in every format;
- :mod:`.compare` and :mod:`.compare_report`: ``harness compare A B``, two systems query by query.
"""

from harness.reports.leaderboard.board import Leaderboard, build_leaderboard, build_leaderboards
from harness.reports.leaderboard.entries import Entry
from harness.reports.leaderboard.significance import TestOptions

__all__ = ["Entry", "Leaderboard", "TestOptions", "build_leaderboard", "build_leaderboards"]
