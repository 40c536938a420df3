"""fire-detect service."""
