"""A visitor's workspace around trials: private notes, passcode share links, a shortlist.

Every row carries an ``owner``: ``session:<session hash>`` for an anonymous visitor,
``account:<id>`` for a signed-in member (the accounts package moves session rows into the
account on sign-in). Nothing here knows about the web: the shells pass the owner in.
"""

from trialscout.workspace.notes import NoteError, NoteIn, NoteStore, NoteView
from trialscout.workspace.ownership import session_owner
from trialscout.workspace.shares import (
    ShareBusy,
    ShareError,
    ShareIn,
    ShareLocked,
    ShareService,
    ShareView,
    WrongPasscode,
)
from trialscout.workspace.shortlist import Shortlist, ShortlistError

__all__ = ["NoteError", "NoteIn", "NoteStore", "NoteView", "ShareBusy", "ShareError", "ShareIn",
           "ShareLocked", "ShareService", "ShareView", "Shortlist", "ShortlistError",
           "WrongPasscode", "session_owner"]
