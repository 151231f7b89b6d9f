"""Staff pages: billing (to be written)."""
