"""Re-ranking terms for the feedback engine (numpy only) and the whole-item baselines."""
