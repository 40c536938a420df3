"""traffic-signal: the intersections of the city's signal network and the traffic incidents on it."""
