"""gateway: the platform's one public entry, and the operators' dashboard."""
