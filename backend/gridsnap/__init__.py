"""gridsnap: grid management (网格化管理) for a city — reports, grid cells, cases and their follow-up."""

__version__ = "0.1.0"
