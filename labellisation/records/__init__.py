"""The records database: every event of every project, kept for years."""
