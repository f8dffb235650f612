"""延期: a department asks for more time on the handling stage, a supervisor approves or refuses —
a sub-process of the case loop (its actions, their writes, their SQL)."""
