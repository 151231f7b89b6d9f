"""Staff pages: students (to be written)."""
