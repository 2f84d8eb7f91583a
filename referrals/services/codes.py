"""Referral codes, clicks on referral links, and attribution (who referred whom, set once and
for life), with the self-referral checks that flag an attribution for an operator's review."""

from __future__ import annotations

import ipaddress
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import ConflictError, DomainError
from referrals import selectors
from referrals.models import Attribution, Click, Partner, PartnerDevice, PartnerTier, ReferralCode

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from a screen
CUSTOM = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
TELEGRAM_PREFIX = "ref_"


def partner_ensure(*, user) -> Partner:
    """The user's partner profile and default code (created on first use: every user may refer)."""
    partner = Partner.objects.filter(user=user).first()
    if partner is None:
        tier = PartnerTier.objects.filter(is_default=True).first()
        if tier is None:
            raise ConflictError("The referral programme is not set up yet.", code="referral_not_available")
        try:
            with transaction.atomic():
                partner = Partner.objects.create(user=user, tier=tier)
        except IntegrityError:
            partner = Partner.objects.get(user=user)
    if not ReferralCode.objects.filter(partner=partner, custom=False).exists():
        for _ in range(10):
            try:
                with transaction.atomic():
                    ReferralCode.objects.create(
                        partner=partner, code="".join(secrets.choice(ALPHABET) for _ in range(8))
                    )
                break
            except IntegrityError:
                if ReferralCode.objects.filter(partner=partner, custom=False).exists():
                    break
    return partner


def code_create_custom(*, user, code: str) -> ReferralCode:
    """An approved partner's own code (IVAN2026): letters, digits, - and _, 3 to 32 long."""
    partner = partner_ensure(user=user)
    if not partner.approved:
        raise ConflictError("Custom codes are for approved partners.", code="referral_not_approved")
    code = (code or "").strip().upper()
    if not CUSTOM.match(code) or code.startswith(TELEGRAM_PREFIX.upper()):
        raise DomainError(
            "Use 3 to 32 letters, digits, - or _.",
            code="referral_bad_code",
            fields={"code": ["Use 3 to 32 letters, digits, - or _."]},
        )
    try:
        with transaction.atomic():
            return ReferralCode.objects.create(partner=partner, code=code, custom=True)
    except IntegrityError:
        raise ConflictError(
            "This code is taken.", code="referral_code_taken", fields={"code": ["This code is taken."]}
        ) from None


def click_record(*, code: str, device: str, ip: str | None, now=None) -> ReferralCode | None:
    """A visit by a referral link: counted once per device, code and day. None if no such code."""
    now = now or timezone.now()
    found = selectors.code_active(code=code)
    if found is None:
        return None
    Click.objects.get_or_create(code=found, device=device[:64], day=now.date(), defaults={"ip": ip})
    return found


def partner_device_seen(*, partner: Partner, device: str) -> None:
    if device:
        PartnerDevice.objects.update_or_create(partner=partner, device=device[:64])


def _cluster(ip: str | None):
    """The network a sign-up's address belongs to (/24 for IPv4, /64 for IPv6)."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return ipaddress.ip_network(f"{addr}/{24 if addr.version == 4 else 64}", strict=False)


def _email_person(email: str) -> str:
    """The mailbox behind an address: case, +tags and (for Gmail) dots do not make a new person."""
    local, _, domain = (email or "").lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _flags(*, user, partner: Partner, ip: str | None, device: str, now) -> list[str]:
    from accounts.models import RefreshToken

    referrer = partner.user
    flags = []
    if _email_person(user.email) == _email_person(referrer.email):
        flags.append("same_person")
    if device and PartnerDevice.objects.filter(partner=partner, device=device).exists():
        flags.append("same_device")
    cluster = _cluster(ip)
    if cluster is not None:
        known = RefreshToken.objects.filter(user=referrer, ip_address__isnull=False).values_list(
            "ip_address", flat=True
        )
        if any(_cluster(other) == cluster for other in set(known)):
            flags.append("same_ip_cluster")
    today = Attribution.objects.filter(code__partner=partner, created_at__gte=now - timedelta(days=1)).count()
    if today >= settings.SETKA_REFERRAL_SIGNUPS_PER_CODE_PER_DAY:
        flags.append("signup_rate")
    return flags


def referral_attribute(
    *, user, code: str, source: str, ip: str | None = None, device: str = "", now=None
) -> Attribution:
    """Attribute a new account to the owner of `code` (the sign-up page, the landing's cookie or
    the Telegram bot's `start=ref_CODE`). Once set it is never changed: the same code again returns
    the attribution, another code is refused. Only within SETKA_REFERRAL_ATTRIBUTION_HOURS of the
    sign-up and before the first payment. Suspicious ones are attributed but flagged: their
    rewards are held until an operator approves."""
    now = now or timezone.now()
    code = (code or "").strip()
    if source == "telegram" and code.lower().startswith(TELEGRAM_PREFIX):
        code = code[len(TELEGRAM_PREFIX) :]
    found = selectors.code_active(code=code)
    if found is None:
        raise DomainError("This referral code does not exist.", code="referral_unknown_code")
    partner = found.partner
    with transaction.atomic():
        # One attribution per code at a time: the daily sign-up count cannot be raced past.
        ReferralCode.objects.select_for_update().get(pk=found.pk)
        existing = Attribution.objects.filter(user=user).first()
        if existing is not None:
            if existing.referrer_id == partner.user_id:
                return existing
            raise ConflictError("You already came by another partner's link.", code="referral_already_attributed")
        if partner.user_id == user.pk:
            raise DomainError("You cannot use your own referral code.", code="referral_self")
        # A ring (B refers A after A referred B) is the same people paying themselves.
        upline = Attribution.objects.filter(user_id=partner.user_id).values_list("referrer_id", flat=True).first()
        if upline == user.pk:
            raise DomainError("You cannot use your own referral code.", code="referral_self")
        from billing.models import Payment

        joined = user.date_joined or now
        late = now - joined > timedelta(hours=settings.SETKA_REFERRAL_ATTRIBUTION_HOURS)
        if late or Payment.objects.filter(user=user, credited_at__isnull=False).exists():
            raise ConflictError("A referral code can only be used when signing up.", code="referral_too_late")
        flags = _flags(user=user, partner=partner, ip=ip, device=device, now=now)
        return Attribution.objects.create(
            user=user,
            referrer=partner.user,
            code=found,
            source=source[:16],
            status=Attribution.Status.FLAGGED if flags else Attribution.Status.OK,
            flags=flags,
            ip=ip,
            device=device[:64],
        )
