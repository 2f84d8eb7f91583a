"""Staff roles as Django groups.

- operator: sees everything of the product apps, issues/revokes access grants, grants/revokes
  user access, ends user sessions, and holds every custom permission of the product apps
  (e.g. bots.stop_bot: emergency-stop any bot).
- support: read-only on users, profiles, bots and their events, orders, trades and the outbox;
  works the help desk (view and answer tickets, read canned replies, the knowledge base and
  what was told to users).

roles_setup() only ADDS permissions (an admin may have given a group more by hand). Run it
with `manage.py setup_roles` after every migrate (scripts/run does): permissions of models
added later are picked up then."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OPERATOR = "operator"
SUPPORT = "support"
PRODUCT_APPS = ("accounts", "exchanges", "bots", "trading", "metrics")
DEFAULT_ACTIONS = ("add", "change", "delete", "view")

OPERATOR_EXTRA = [
    ("accounts", "add_accessgrant"),
    ("accounts", "change_accessgrant"),
    ("accounts", "change_user"),
    ("accounts", "change_profile"),
    ("accounts", "change_refreshtoken"),
]
SUPPORT_VIEW = [
    ("accounts", "user"),
    ("accounts", "profile"),
    ("accounts", "outboxmessage"),
    ("bots", "bot"),
    ("bots", "botevent"),
    ("trading", "order"),
    ("trading", "trade"),
]

# The help desk: both groups view and answer tickets (the reply goes through the ticket's change
# form); operators also keep canned replies and knowledge-base articles.
HELP_DESK = [
    ("support", "view_ticket"),
    ("support", "change_ticket"),
    ("support", "view_cannedreply"),
    ("support", "view_article"),
    ("notifications", "view_notification"),
    ("notifications", "view_delivery"),
]
HELP_DESK_OPERATOR = [
    ("support", "add_cannedreply"),
    ("support", "change_cannedreply"),
    ("support", "add_article"),
    ("support", "change_article"),
]


def _perms(using: str, q: Q) -> list[Permission]:
    return list(Permission.objects.using(using).filter(q))


def roles_setup(*, using: str = "default") -> dict[str, int]:
    """Create/extend the operator and support groups. Returns {group: permission count}."""
    operator_q = Q(content_type__app_label__in=PRODUCT_APPS, codename__startswith="view_")
    custom = Q(content_type__app_label__in=PRODUCT_APPS)
    for action in DEFAULT_ACTIONS:
        custom &= ~Q(codename__startswith=f"{action}_")
    operator_q |= custom
    operator_q |= Q(content_type__app_label="account", codename="view_emailaddress")
    for app, codename in OPERATOR_EXTRA:
        operator_q |= Q(content_type__app_label=app, codename=codename)

    support_q = Q(pk__in=[])
    for app, model in SUPPORT_VIEW:
        support_q |= Q(content_type__app_label=app, codename=f"view_{model}")
    for app, codename in HELP_DESK:
        support_q |= Q(content_type__app_label=app, codename=codename)
        operator_q |= Q(content_type__app_label=app, codename=codename)
    for app, codename in HELP_DESK_OPERATOR:
        operator_q |= Q(content_type__app_label=app, codename=codename)

    counts = {}
    for name, q in ((OPERATOR, operator_q), (SUPPORT, support_q)):
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*_perms(using, q))
        counts[name] = group.permissions.count()
    return counts


def is_operator(user) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=OPERATOR).exists())
