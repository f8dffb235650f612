"""The grid: areas from district to unit cell, import and lookup."""
