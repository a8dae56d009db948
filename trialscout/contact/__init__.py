"""Contacting a study team about a trial, and the coordinator workspace that answers.

``service.ContactService`` (``app.contact``) is the entry point; ``inquiries`` holds the
rules (validation, limits, routing, scopes), ``claims`` how coordinators prove a trial
is theirs, ``recipient`` the one-time code behind an emailed link, ``audit`` the read log.
"""
