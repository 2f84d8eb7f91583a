from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff groups (operator, support) are made by `manage.py setup_roles`, which the run script
    calls after migrate. Not a post_migrate handler: rows it would create after every test-database
    flush collide with the serialized-rollback snapshot other apps' transactional tests restore."""

    name = "accounts"
    verbose_name = "Users and access"

    def ready(self):
        from accounts import schema  # noqa: F401 - registers the OpenAPI auth extension
