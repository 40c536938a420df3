"""enterprise-hub service."""
