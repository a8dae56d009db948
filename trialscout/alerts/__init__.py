"""Saved searches and the alerts an import or sync raises for them.

``changes`` records what changed in a trial (write hook); ``matcher`` tells which saved
searches a changed trial belongs to; ``compute`` turns changes into alert rows once per
(saved search, change); ``compose`` queues emails through ``trialscout.mail``; ``feeds``
renders the Atom feed; ``service`` is what the shells call.
"""
