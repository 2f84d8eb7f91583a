"""The database's own guarantees: ledger entries and postings are never updated or deleted, an
attribution's referred user and referrer never change; and the default partner tier."""

from decimal import Decimal

from django.db import migrations

GUARDS = """
CREATE OR REPLACE FUNCTION referrals_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'referrals: % rows are immutable', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER referrals_ledgerentry_immutable BEFORE UPDATE OR DELETE ON referrals_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION referrals_immutable();
CREATE TRIGGER referrals_ledgerposting_immutable BEFORE UPDATE OR DELETE ON referrals_ledgerposting
    FOR EACH ROW EXECUTE FUNCTION referrals_immutable();

CREATE OR REPLACE FUNCTION referrals_attribution_fixed() RETURNS trigger AS $$
BEGIN
    IF NEW.referrer_id <> OLD.referrer_id OR NEW.user_id <> OLD.user_id OR NEW.code_id <> OLD.code_id THEN
        RAISE EXCEPTION 'referrals: an attribution never changes its referrer';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER referrals_attribution_fixed BEFORE UPDATE ON referrals_attribution
    FOR EACH ROW EXECUTE FUNCTION referrals_attribution_fixed();
"""

UNGUARDS = """
DROP TRIGGER IF EXISTS referrals_attribution_fixed ON referrals_attribution;
DROP TRIGGER IF EXISTS referrals_ledgerposting_immutable ON referrals_ledgerposting;
DROP TRIGGER IF EXISTS referrals_ledgerentry_immutable ON referrals_ledgerentry;
DROP FUNCTION IF EXISTS referrals_attribution_fixed();
DROP FUNCTION IF EXISTS referrals_immutable();
"""


# The quick start's SQLite: the same guarantees as plain triggers.
SQLITE_GUARDS = [
    f"CREATE TRIGGER referrals_{table}_immutable_{op.lower()} BEFORE {op} ON referrals_{table} "
    f"BEGIN SELECT RAISE(ABORT, 'referrals: {table} rows are immutable'); END"
    for table in ("ledgerentry", "ledgerposting")
    for op in ("UPDATE", "DELETE")
] + [
    "CREATE TRIGGER referrals_attribution_fixed BEFORE UPDATE ON referrals_attribution "
    "WHEN NEW.referrer_id IS NOT OLD.referrer_id OR NEW.user_id IS NOT OLD.user_id OR NEW.code_id IS NOT OLD.code_id "
    "BEGIN SELECT RAISE(ABORT, 'referrals: an attribution never changes its referrer'); END"
]


def guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS, params=None)  # no placeholders: the % is plpgsql's
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_GUARDS:
            schema_editor.execute(statement)


def unguards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARDS, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_GUARDS:
            schema_editor.execute("DROP TRIGGER IF EXISTS " + statement.split()[2])


def seed(apps, schema_editor):
    PartnerTier = apps.get_model("referrals", "PartnerTier")
    PartnerTier.objects.update_or_create(
        code="standard",
        defaults={
            "name": "Standard",
            "level1_rate": Decimal("0.2000"),
            "level2_rate": Decimal("0.0500"),
            "referee_discount_rate": Decimal("0.1000"),
            "min_payout_rub": Decimal("1000.00"),
            "min_payout_usdt": Decimal("10.00"),
            "is_default": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [
        migrations.RunPython(guards, unguards),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
