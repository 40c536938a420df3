"""A minimal service on the platform, for the platform's own tests.

It receives traffic incidents over REST, publishes them through the outbox, and
consumes them back into a ledger, so every property of the foundation (outbox,
inbox, DLQ, problem details) can be observed end to end.
"""
