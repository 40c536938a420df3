"""video-ingest service."""
