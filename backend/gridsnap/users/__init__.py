"""Users, their roles and scopes, and the bearer tokens they work with."""
