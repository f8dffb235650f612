"""精准派单: routing rules from category × area to the department that must handle a case."""
