"""Re-ranking terms for the feedback engine (numpy only)."""
