"""Staff pages: receipts (to be written)."""
