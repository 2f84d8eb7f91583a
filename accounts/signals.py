"""What accounts tells the apps above it (Django signals: accounts imports none of them; they
connect in their AppConfig.ready). Receivers run synchronously, in the caller's transaction."""

from __future__ import annotations

from django.dispatch import Signal

# A user's trading access ended (accounts.services.access.user_access_end): user, reason (the
# stop reason shown to the user). A receiver stops what the user runs and returns how many bots
# it asked to stop (bots: bots_stop_for_user).
access_ended = Signal()
