"""health-record: health facilities, their casualty readiness, and the access audit."""
