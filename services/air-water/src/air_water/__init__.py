"""air-water: the city's air and surface water monitoring stations and their exceedances."""
