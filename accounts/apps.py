from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Apps whose permissions the roles hand out: re-run the setup after each of them migrates, so
# the last one to finish sees every permission (auth creates them in its own post_migrate).
_ROLE_APPS = {"accounts", "exchanges", "bots", "trading", "metrics", "account"}


def _setup_roles(sender, using="default", **kwargs):
    if getattr(sender, "label", None) not in _ROLE_APPS:
        return
    from accounts.roles import roles_setup

    roles_setup(using=using)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and access"

    def ready(self):
        from accounts import schema  # noqa: F401 - registers the OpenAPI auth extension

        post_migrate.connect(_setup_roles, dispatch_uid="accounts.setup_roles")
