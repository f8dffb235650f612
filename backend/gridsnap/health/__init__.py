"""Health of the service and what it depends on."""
