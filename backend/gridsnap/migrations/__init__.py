"""Alembic migrations of the gridsnap schema."""
