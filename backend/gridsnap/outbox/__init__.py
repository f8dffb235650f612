"""The transactional outbox: follow-up work recorded with the data, relayed to RQ after commit."""
