"""Bank statement upload (placeholder; routes are registered on the API blueprint)."""
