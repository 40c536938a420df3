"""FastAPI app factory, RFC 9457 problem details, pagination."""
