"""Open311 GeoReport v2: other systems submit and read cases through the standard API."""
