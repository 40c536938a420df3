"""traffic-signal: the intersections of the signal network and the traffic incidents on it."""
