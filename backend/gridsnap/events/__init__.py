"""The audit trail (案卷记录): one row per change of a case, written by one module."""
