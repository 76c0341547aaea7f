"""The transactional outbox: bus messages written with the change, published by the relay."""
