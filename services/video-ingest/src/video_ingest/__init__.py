"""video-ingest: the city's cameras, the frames they deliver and the alarms raised on them."""
