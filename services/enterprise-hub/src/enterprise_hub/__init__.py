"""enterprise-hub: the district's enterprises, the policies for them, their compliance notices."""
