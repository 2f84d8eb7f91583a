import pytest

from billing.models import Plan
from billing.services import subscription_comp
from tests.factories import BotFactory, ExchangeAccountFactory


@pytest.fixture
def pro_user(user):
    subscription_comp(user=user, plan=Plan.objects.get(code="pro"), days=30)
    return user


@pytest.fixture
def pro_other(other_user):
    subscription_comp(user=other_user, plan=Plan.objects.get(code="pro"), days=30)
    return other_user


@pytest.fixture
def account(pro_user):
    return ExchangeAccountFactory(user=pro_user)


@pytest.fixture
def draft_bot(pro_user, account):
    return BotFactory(user=pro_user, exchange_account=account)


@pytest.fixture
def others_bot(pro_other):
    return BotFactory(user=pro_other)
