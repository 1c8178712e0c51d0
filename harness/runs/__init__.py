"""Run and experiment folders: safe paths, reading a run folder back, checking a sweep's jobs, suites."""
