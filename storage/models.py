"""The tables: what the plan talks about, and what running it produces.

Conventions: typed ``Mapped[]`` columns, timestamps stored timezone-aware (UTC on PostgreSQL;
SQLite keeps the offset we give), plain ``select()`` at the call sites, no repository classes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both engines.

    SQLite has no time zone type and compares stored text, so every value is normalised to UTC
    before it is written; naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (Asia/Shanghai or UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


TS = UTCDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: TS}


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    year: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    current_version: Mapped[int] = mapped_column(default=0)
    phases: Mapped[list[Phase]] = relationship(back_populates="campaign", order_by="Phase.number")


class PlanVersion(Base):
    """Every distinct catalog ever loaded; the document is kept whole for replays."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "version"), UniqueConstraint("campaign_id", "content_hash"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[dt.datetime]
    document: Mapped[dict[str, Any]]


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    campaign: Mapped[Campaign] = relationship(back_populates="phases")


class Division(Base):
    """Official administrative divisions (国家统计用区划代码), shared by every campaign of the city."""

    __tablename__ = "divisions"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    # Which villages are 贫困村 is not public; an operator (or the demo seed) sets it.
    is_poor_village: Mapped[bool | None] = mapped_column(Boolean)


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))


class Person(Base):
    """A person or a role holder (name may be unknown: 瓦房镇党委书记)."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("campaign_id", "key"), Index("ix_people_role_unit", "role", "unit_code"))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))  # 瓦房镇乡镇党委书记, 扶贫办康明礼: how messages address them
    role: Mapped[str] = mapped_column(String(60))
    unit_code: Mapped[str | None] = mapped_column(String(12))  # division the role is held in
    department: Mapped[str | None] = mapped_column(String(100))

    @property
    def display(self) -> str:
        return self.title or self.name or self.key


class ContactChannel(Base):
    """Prioritised channels of a person, from the contact directory. Credentials are never stored:
    ``url_ref`` names the directory entry; the URL with secrets is resolved at send time."""

    __tablename__ = "contact_channels"
    __table_args__ = (UniqueConstraint("person_id", "priority"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    priority: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    url_ref: Mapped[str] = mapped_column(String(200))


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    aspect_number: Mapped[int]
    aspect_title: Mapped[str] = mapped_column(String(100))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    deadlines: Mapped[list[Any]]
    leaders: Mapped[list[Any]]
    departments: Mapped[list[Any]]
    persons: Mapped[list[Any]]


class Duty(Base):
    __tablename__ = "duties"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    performer: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10))
    report_type: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    metric: Mapped[str] = mapped_column(String(100))
    comparison: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(20))


class DutyInstance(Base):
    """One row per duty × responsible unit × period (healthchecks-style: due time stored).

    ``alert_after`` = due time + grace; an instance still open past it is overdue. ``flagged_at``
    is set by a conditional update, so an overdue instance is claimed exactly once.
    """

    __tablename__ = "duty_instances"
    __table_args__ = (
        UniqueConstraint("duty_id", "unit_code", "period_key"),
        Index("ix_duty_instances_open_alert", "status", "alert_after"),
        Index("ix_duty_instances_township", "campaign_id", "township_code"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    duty_id: Mapped[int] = mapped_column(ForeignKey("duties.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(64))  # division code, department name or 'city'
    unit_name: Mapped[str] = mapped_column(String(100))
    township_code: Mapped[str | None] = mapped_column(String(12))
    period_key: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    due_at: Mapped[dt.datetime] = mapped_column(TS, index=True)
    alert_after: Mapped[dt.datetime] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | done | overdue
    completed_at: Mapped[dt.datetime | None]
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    # Event duties: the event the instance answers (its deadline counts from the event).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    flagged_at: Mapped[dt.datetime | None]
    overdue_since: Mapped[dt.datetime | None]
    # Escalation chain frozen when the instance first goes overdue (a later policy edit does not rewrite it).
    escalation_chain: Mapped[list[Any] | None] = mapped_column(JSON)
    acknowledged_at: Mapped[dt.datetime | None]
    extended_to: Mapped[dt.datetime | None]


class Event(Base):
    """Something that starts an event-driven duty (a power fault); its deadline counts from ``occurred_at``."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    duty_id: Mapped[int] = mapped_column(ForeignKey("duties.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    details: Mapped[dict[str, Any]]


class Submission(Base):
    """One imported file. Same content twice is one submission (content hash); a corrected file
    for the same report and unit-period supersedes the earlier one (history kept)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("campaign_id", "report_type", "content_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    report_type: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    scope_key: Mapped[str] = mapped_column(String(200))  # which unit-periods the file covers
    received_at: Mapped[dt.datetime]
    rows: Mapped[int]
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))


class Evidence(Base):
    """One row of an imported report: the fact that completes duty instances."""

    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_lookup", "campaign_id", "report_type", "unit_code", "occurred_on"),
        # Issue 6 (imports): a township duty is completed by rows of any of its villages
        # (tasks.imports.completion matches Evidence.township_code), so that lookup is indexed too.
        Index("ix_evidence_township", "campaign_id", "report_type", "township_code", "occurred_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    report_type: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int]
    unit_code: Mapped[str] = mapped_column(String(12))
    township_code: Mapped[str | None] = mapped_column(String(12))
    occurred_on: Mapped[dt.date | None] = mapped_column(Date)
    period_key: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[dt.datetime]  # when the file came in: evidence counts from then on (replays)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any]]


class IndicatorReading(Base):
    __tablename__ = "indicator_readings"
    __table_args__ = (Index("ix_readings_lookup", "campaign_id", "indicator_key", "unit_code", "period_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    indicator_key: Mapped[str] = mapped_column(String(80))
    unit_code: Mapped[str] = mapped_column(String(64))
    period_key: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Flag(Base):
    """Something operators must see: an overdue instance or a below-target reading."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # overdue | below_target
    subject: Mapped[str] = mapped_column(String(200))  # e.g. instance:123
    duty_instance_id: Mapped[int | None] = mapped_column(ForeignKey("duty_instances.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(64))
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    raised_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    details: Mapped[dict[str, Any]]


class Card(Base):
    """红旗/黄旗 for townships, 黄牌 for villages (四、(五))."""

    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", "unit_code", "period_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # red_flag | yellow_flag | yellow_card
    unit_code: Mapped[str] = mapped_column(String(12))
    period_key: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    awarded_on: Mapped[dt.date] = mapped_column(Date)
    consequences: Mapped[list[Any]]


class Notification(Base):
    """The ledger: one row per (recipient, item, step, period). The unique ``dedup_key`` is
    claimed before anything is sent, so no re-run, retry or concurrent run sends it twice."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    duty_instance_id: Mapped[int | None] = mapped_column(ForeignKey("duty_instances.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))  # before-3 | before-1 | due | overdue | escalate-N
    township_code: Mapped[str | None] = mapped_column(String(12))
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sending | sent | failed | expired
    not_before: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    line: Mapped[str] = mapped_column(Text)  # the digest line for this item
    # Added for issue 5 (notifier): what the step is (reminder | overdue | escalation), and whether the
    # duty is urgent (its rows may go out inside quiet hours). ``claimed_at`` is the wall-clock time of
    # the claim (the lease), ``last_error`` also holds the reason a row was 'expired'.
    kind: Mapped[str] = mapped_column(String(12), default="reminder")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)


class Message(Base):
    """One digest actually handed to a channel (or attempted)."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))  # sending | sent | failed
    channel: Mapped[str | None] = mapped_column(String(200))  # privacy URL of the channel that took it
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    # Added for issue 5 (notifier): when a channel accepted it (the run's as_of), and how many channel
    # attempts it took (fallbacks and retries of this same message).
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)


class OutboxMessage(Base):
    """The embedded default channel: what would have been sent, recorded locally (outbox://)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Acknowledgements, extensions and other admin acts, who and why."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]]


class RunLock(Base):
    """A lease on a scope of work so two runs over the same rows never interleave.

    One row per scope (``<campaign>:city`` and ``<campaign>:town:<code>``): a township re-run claims
    its township, a city-wide run the city and every township. A row is claimed by a conditional
    insert/update (free, expired, or already ours) and deleted on release; ``expires_at`` is a
    lease renewed while the run works, so a crashed run's lock lapses on its own."""

    __tablename__ = "run_locks"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(String(300))  # what holds it, for the message the next run shows
    acquired_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
