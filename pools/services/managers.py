"""Who may publish pools: a user applies to be a pool manager; an operator approves, rejects or
revokes that in admin (who decided and when is kept on the row and in the admin log).

Revoking an approved manager suspends every pool of theirs that is not closed. For the
followers that means: their follower bots stop (open orders cancelled; coins stay on their own
accounts, as each bot's stop setting says), nobody joins or adds money, and each follower is
told. Their places are kept (units, high-water mark) and they may leave at any time. A pool
opens again only when the manager is approved again and an operator approves that pool."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.errors import ConflictError, DomainError
from pools.models import Pool, PoolManager
from pools.services.manage import pool_suspend

MAX_EXPERIENCE = 2000
REVOKED_NOTE = "The manager's approval was revoked."


def manager_apply(*, user, experience: str, now=None) -> PoolManager:
    """Apply (or apply again after a rejection or revocation) to publish pools."""
    experience = experience.strip()
    if len(experience) < 20:
        raise DomainError(
            "Tell the operators about your trading in a few sentences (at least 20 characters).",
            code="pool_manager_experience",
            fields={"experience": ["At least 20 characters."]},
        )
    now = now or timezone.now()
    with transaction.atomic():
        current = PoolManager.objects.select_for_update().filter(user=user).first()
        if current is None:
            return PoolManager.objects.create(user=user, experience=experience[:MAX_EXPERIENCE], applied_at=now)
        if current.status == PoolManager.Status.APPROVED:
            raise ConflictError("You are an approved pool manager already.", code="pool_manager_already")
        current.experience = experience[:MAX_EXPERIENCE]
        current.status = PoolManager.Status.PENDING
        current.applied_at = now
        current.decided_at = None
        current.decided_by = None
        current.decision_note = ""
        current.save()
        return current


def _decide(application: PoolManager, *, allowed: tuple[str, ...], to: str, by, note: str, now) -> PoolManager:
    moved = PoolManager.objects.filter(pk=application.pk, status__in=allowed).update(
        status=to, decided_at=now or timezone.now(), decided_by=by, decision_note=note[:300]
    )
    if not moved:
        raise ConflictError("This cannot be done in the application's current state.", code="pool_manager_state")
    application.refresh_from_db()
    return application


def manager_approve(*, application: PoolManager, by, note: str = "", now=None) -> PoolManager:
    """An operator lets the applicant publish pools (also a revoked or rejected one, again)."""
    allowed = (PoolManager.Status.PENDING, PoolManager.Status.REJECTED, PoolManager.Status.REVOKED)
    return _decide(application, allowed=allowed, to=PoolManager.Status.APPROVED, by=by, note=note, now=now)


def manager_reject(*, application: PoolManager, by, note: str = "", now=None) -> PoolManager:
    """An operator turns a pending application down; the applicant may apply again."""
    allowed = (PoolManager.Status.PENDING,)
    return _decide(application, allowed=allowed, to=PoolManager.Status.REJECTED, by=by, note=note, now=now)


def manager_revoke(*, application: PoolManager, by, note: str = "", now=None) -> tuple[PoolManager, int]:
    """An operator withdraws an approval: the manager publishes nothing more and each of their
    pools that is not closed is suspended (followers stop and are told). Returns the
    application and how many pools were suspended."""
    with transaction.atomic():
        application = _decide(
            application,
            allowed=(PoolManager.Status.APPROVED,),
            to=PoolManager.Status.REVOKED,
            by=by,
            note=note,
            now=now,
        )
        suspended = 0
        pools = Pool.objects.filter(
            manager_id=application.user_id, status__in=(Pool.Status.PENDING, Pool.Status.APPROVED)
        )
        for pool in pools:
            pool_suspend(pool=pool, note=REVOKED_NOTE)
            suspended += 1
    return application, suspended
