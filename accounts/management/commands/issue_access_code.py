from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils import timezone

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Issue a single-use access code (for operators without admin). Prints the code."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="", help="Only this email may redeem the code.")
        parser.add_argument("--expires-days", type=int, default=None, help="Valid for N days (default: no expiry).")
        parser.add_argument("--note", default="Issued from the command line")
        parser.add_argument("--send", action="store_true", help="Also email the code to --email.")
        parser.add_argument(
            "--issued-by", default="", help="Email of the staff user recorded as issuer (default: the first superuser)."
        )

    def handle(self, *args, **options):
        email = options["email"].strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise CommandError(f"Not a valid email: {email}") from exc
        days = options["expires_days"]
        if options["send"] and not email:
            raise CommandError("--send needs --email.")
        if days is not None and days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        if options["issued_by"]:
            issuer = User.objects.filter(email__iexact=options["issued_by"], is_staff=True).first()
            if issuer is None:
                raise CommandError(f"No staff user {options['issued_by']}.")
        else:
            issuer = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
            if issuer is None:
                raise CommandError("No superuser yet: run createsuperuser first or pass --issued-by.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        grant = services.access_grant_issue(
            operator=issuer, issued_to_email=email, expires_at=expires_at, note=options["note"]
        )
        self.stdout.write(grant.code)
        if options["send"]:
            services.access_grant_send(grant=grant)
        details = [f"issued by {issuer.email}"]
        if email:
            details.append(f"only for {email}")
        details.append(f"expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "no expiry")
        if options["send"]:
            details.append(f"emailed to {email}")
        self.stderr.write(", ".join(details))
