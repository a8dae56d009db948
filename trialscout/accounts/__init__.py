"""Accounts: sign-up, verification, sign-in, links by email, lockout, roles, and the owner
key that ties every per-user object to a visitor's session or to their account.

Kept import-light: ``sessions.tables`` imports ``accounts.tables`` for its foreign key.
"""
