"""Reports over finished runs: the leaderboard, sweep plots and summaries, noise curves."""
