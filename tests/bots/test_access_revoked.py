"""Revoking a user's access stops their bots: without access nobody trades."""

import pytest

from accounts.services import user_access_revoke
from bots.models import Bot, BotEvent
from tests.factories import BotFactory, UserFactory


@pytest.mark.django_db
def test_revoking_access_stops_every_active_bot_of_that_user_only(django_capture_on_commit_callbacks):
    operator = UserFactory(is_staff=True)
    owner = UserFactory()
    running = BotFactory(user=owner, status=Bot.Status.RUNNING)
    draft = BotFactory(user=owner, status=Bot.Status.DRAFT)
    someone_elses = BotFactory(status=Bot.Status.RUNNING)

    with django_capture_on_commit_callbacks():  # the stop tick is queued after commit
        user_access_revoke(user=owner, operator=operator)

    running.refresh_from_db(), draft.refresh_from_db(), someone_elses.refresh_from_db()
    owner.refresh_from_db()
    assert not owner.has_trading_access
    assert running.status == Bot.Status.STOPPING and "Access revoked" in running.stop_reason
    assert draft.status == Bot.Status.DRAFT
    assert someone_elses.status == Bot.Status.RUNNING
    assert BotEvent.objects.filter(bot=running).exists()
