"""Where Huế is: a report's location must be inside the city."""
from __future__ import annotations

# Generously: from Phong Điền in the north-west to Chân Mây in the south-east (south, north, west, east).
HUE_BOUNDS = (15.9, 16.9, 107.0, 108.4)


def in_hue(lat, long) -> bool:
    """Whether a latitude and longitude, as numbers or text, lie in Huế."""
    try:
        lat, long = float(lat), float(long)
    except (TypeError, ValueError):
        return False
    south, north, west, east = HUE_BOUNDS
    return south <= lat <= north and west <= long <= east
