from django.core.management.base import BaseCommand, CommandError

from accounts.services.housekeeping import auth_records_prune


class Command(BaseCommand):
    help = "Delete old refresh tokens, verification codes and outbox messages (safe to run daily)."

    def add_arguments(self, parser):
        parser.add_argument("--keep-days", type=int, default=30, help="Keep dead refresh tokens this long.")
        parser.add_argument("--outbox-keep-days", type=int, default=90)

    def handle(self, *args, **options):
        if options["keep_days"] < 1 or options["outbox_keep_days"] < 1:
            raise CommandError("Keep at least one day.")
        counts = auth_records_prune(keep_days=options["keep_days"], outbox_keep_days=options["outbox_keep_days"])
        self.stdout.write(", ".join(f"{name}: {count} deleted" for name, count in counts.items()))
