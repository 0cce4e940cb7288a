"""Every write with rules lives here, split by concern (re-exported for convenience)."""
