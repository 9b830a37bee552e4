"""Monitoring's tables: flags and their evidence and history, monitor watermarks and
period totals, council settings, life events, officer decisions, the notification
outbox, and the scheduler's lease and locks."""

from monitoring.models.audit import AuditEntry
from monitoring.models.flags import (
    DismissReason,
    Disposition,
    Flag,
    FlagEvidence,
    FlagHistory,
    FlagNote,
    FlagStatus,
    Severity,
    SuggestedAction,
)
from monitoring.models.notifications import Notification, NotificationStatus
from monitoring.models.people import (
    AdvocacyNeed,
    LifeEvent,
    LifeEventKind,
    ReviewRequest,
    ReviewStatus,
    SafeguardingRecord,
    SafeguardingStatus,
)
from monitoring.models.recovery import ClawbackProposal, ClawbackStatus, EmergencyLoad
from monitoring.models.runs import (
    LinePeriodTotal,
    MonitorRun,
    MonitorWatermark,
    PlanPeriodTotal,
    UnplannedSpend,
)
from monitoring.models.scheduling import (
    JobLock,
    ScheduledLoadRun,
    ScheduledLoadStatus,
    SchedulerLease,
)
from monitoring.models.settings import CouncilSetting

__all__ = [
    "AdvocacyNeed",
    "AuditEntry",
    "ClawbackProposal",
    "ClawbackStatus",
    "CouncilSetting",
    "DismissReason",
    "Disposition",
    "EmergencyLoad",
    "Flag",
    "FlagEvidence",
    "FlagHistory",
    "FlagNote",
    "FlagStatus",
    "JobLock",
    "LifeEvent",
    "LifeEventKind",
    "LinePeriodTotal",
    "MonitorRun",
    "MonitorWatermark",
    "Notification",
    "NotificationStatus",
    "PlanPeriodTotal",
    "ReviewRequest",
    "ReviewStatus",
    "SafeguardingRecord",
    "SafeguardingStatus",
    "ScheduledLoadRun",
    "ScheduledLoadStatus",
    "SchedulerLease",
    "Severity",
    "SuggestedAction",
    "UnplannedSpend",
]
