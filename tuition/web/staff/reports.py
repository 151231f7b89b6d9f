"""Staff pages: reports (to be written)."""
