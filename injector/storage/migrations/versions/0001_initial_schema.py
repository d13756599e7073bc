"""Initial schema: the clinical record, shots, device events and the audit trail.

Revision ID: 0001
Revises:

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import injector.storage.types

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("firmware", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "first_seen_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial", name="uq_device_serial"),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("on_anticoagulants", sa.Boolean(), nullable=False),
        sa.Column("pregnant", sa.Boolean(), nullable=False),
        sa.Column("allergies", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contraindication_notes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identifier", name="uq_patient_identifier"),
    )
    op.create_table(
        "treatment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("indication", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("indication_area", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("product_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("manufacturer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("lot_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("lot_expiry", sa.Date(), nullable=False),
        sa.Column("sessions_planned", sa.Integer(), nullable=False),
        sa.Column("initial_sessions", sa.Integer(), nullable=False),
        sa.Column("initial_interval_min_days", sa.Integer(), nullable=False),
        sa.Column("initial_interval_max_days", sa.Integer(), nullable=False),
        sa.Column("later_interval_days", sa.Integer(), nullable=True),
        sa.Column("max_session_volume_nl", sa.BigInteger(), nullable=True),
        sa.Column("lock_at_limit", sa.Boolean(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("treatment_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_treatment_plan_lot_number"), ["lot_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_treatment_plan_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "plan_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body_area", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("technique", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("depth_um", sa.Integer(), nullable=False),
        sa.Column("depth_tolerance_um", sa.Integer(), nullable=False),
        sa.Column("volume_per_point_nl", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("max_volume_nl", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_zone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_zone_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "treatment_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("sequence_no", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scheduled_at", injector.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", injector.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", injector.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("practitioner", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("device_serial", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("device_model", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("device_firmware", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lot_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lot_expiry", sa.Date(), nullable=True),
        sa.Column("nsaid_last_7_days", sa.Boolean(), nullable=True),
        sa.Column("numbing_applied", sa.Boolean(), nullable=True),
        sa.Column("consent_recorded", sa.Boolean(), nullable=True),
        sa.Column("before_photos_taken", sa.Boolean(), nullable=True),
        sa.Column("checklist_warnings", sa.JSON(), nullable=False),
        sa.Column("warnings_acknowledged_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("active_zone_id", sa.Integer(), nullable=True),
        sa.Column("recovered_shots", sa.Integer(), nullable=False),
        sa.Column("lost_shots", sa.Integer(), nullable=False),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("signed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("signed_at", injector.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signature_meaning", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["active_zone_id"],
            ["plan_zone.id"],
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["treatment_plan.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("treatment_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_treatment_session_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_treatment_session_lot_number"), ["lot_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_treatment_session_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "adverse_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("onset", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at_later_visit", sa.Boolean(), nullable=False),
        sa.Column("lot_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverse_event_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "device_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("boot_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("device_event", schema=None) as batch_op:
        batch_op.create_index("ix_device_event_serial_at", ["serial", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_device_event_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "session_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("amended_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("amended_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("session_amendment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_amendment_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "shot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("boot_id", sa.BigInteger(), nullable=False),
        sa.Column("shot_no", sa.BigInteger(), nullable=False),
        sa.Column("uptime_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("device_time", injector.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("depth_um", sa.Integer(), nullable=False),
        sa.Column("volume_nl", sa.BigInteger(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("syringe_remaining_nl", sa.BigInteger(), nullable=False),
        sa.Column("retransmitted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["plan_zone.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial", "boot_id", "shot_no", name="uq_shot_identity"),
    )
    with op.batch_alter_table("shot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shot_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shot_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "zone_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["plan_zone.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("zone_activation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_zone_activation_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("zone_activation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_activation_session_id"))

    op.drop_table("zone_activation")
    with op.batch_alter_table("shot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shot_zone_id"))
        batch_op.drop_index(batch_op.f("ix_shot_session_id"))

    op.drop_table("shot")
    with op.batch_alter_table("session_amendment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_amendment_session_id"))

    op.drop_table("session_amendment")
    with op.batch_alter_table("device_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_event_session_id"))
        batch_op.drop_index("ix_device_event_serial_at")

    op.drop_table("device_event")
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_event_session_id"))

    op.drop_table("adverse_event")
    with op.batch_alter_table("treatment_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treatment_session_plan_id"))
        batch_op.drop_index(batch_op.f("ix_treatment_session_lot_number"))
        batch_op.drop_index(batch_op.f("ix_treatment_session_device_id"))

    op.drop_table("treatment_session")
    with op.batch_alter_table("plan_zone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_zone_plan_id"))

    op.drop_table("plan_zone")
    with op.batch_alter_table("treatment_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treatment_plan_patient_id"))
        batch_op.drop_index(batch_op.f("ix_treatment_plan_lot_number"))

    op.drop_table("treatment_plan")
    op.drop_table("patient")
    op.drop_table("device")
    op.drop_table("audit_entry")
