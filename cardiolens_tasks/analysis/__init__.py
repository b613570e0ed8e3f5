"""Results and analysis: reading Inspect and lm-eval outputs into runs, statistics, tables
and plots (`cardiolens analyze`)."""
