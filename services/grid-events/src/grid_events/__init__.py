"""grid-events: the grid governance command centre and the city's incident hub."""
