"""fire-detect: forest fire alarms from the cameras and the rangers, and the forest's resources."""
