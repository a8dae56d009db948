"""Anonymous visitor sessions: remembered self-check answers, a small profile, CSRF tokens.

Only a hash of each session id is stored, so a copy of the database cannot be used to act
as a visitor. Answers are keyed by the criteria parser's normalized question key, so an
answer given on one trial serves every trial that asks the same question.
"""

from trialscout.sessions.models import Answer, Profile
from trialscout.sessions.store import SessionStore
from trialscout.sessions.tokens import csrf_token, hash_session_token, new_session_token

__all__ = ["Answer", "Profile", "SessionStore", "csrf_token", "hash_session_token",
           "new_session_token"]
