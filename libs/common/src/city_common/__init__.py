"""Shared platform library of the Yongchuan city platform.

Everything a service needs to be a good citizen of the platform lives here once:
settings, the event contract, Kafka messaging with outbox and inbox, the async
database layer, the FastAPI app factory, logging, metrics and auth.
"""
