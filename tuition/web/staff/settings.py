"""Staff pages: settings (to be written)."""
