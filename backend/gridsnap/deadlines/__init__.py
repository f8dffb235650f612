"""Deadlines of case stages (限时办理) on the Chinese working calendar."""
