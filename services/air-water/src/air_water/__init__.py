"""air-water service."""
