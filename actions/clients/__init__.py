"""Clients of the city's services; the actions never speak HTTP themselves."""
