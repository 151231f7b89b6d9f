"""Staff pages: payments (to be written)."""
