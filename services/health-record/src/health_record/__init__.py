"""health-record service."""
