"""Package data (kept a package so wheels include it)."""
