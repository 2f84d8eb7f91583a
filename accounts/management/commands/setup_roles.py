from django.core.management.base import BaseCommand

from accounts.roles import roles_setup


class Command(BaseCommand):
    help = "Create or extend the staff groups 'operator' and 'support' with their permissions (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        counts = roles_setup(using=options["database"])
        for name, count in counts.items():
            self.stdout.write(f"group {name}: {count} permissions")
