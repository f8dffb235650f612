"""The supervisors' live map: vector tiles made by PostGIS, aggregated below street zoom."""
