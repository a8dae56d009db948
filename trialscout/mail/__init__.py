"""Outgoing email: an outbox table, composition once per idempotency key, SMTP delivery.

``outbox.enqueue`` stores a fully composed message (its Message-ID comes from the caller's
idempotency key, so composing twice stores it once); ``delivery.deliver_pending`` sends what
is due, at most once per message (see ``delivery`` for the exact guarantee).
"""
