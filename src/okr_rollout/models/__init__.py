"""Every ORM class; one module per aggregate. Relationships are lazy="raise": load what you use."""

from okr_rollout.models.auth import ApiToken, IdempotencyRecord, SignInThrottle
from okr_rollout.models.client import ClientLink, Pulse, TaskAssignee
from okr_rollout.models.coaching import Appointment, CeoSupportStatement, DraftingGroup, Meeting, TrainingSession
from okr_rollout.models.cycle import CheckIn, KeyResult, Okr, Quarter
from okr_rollout.models.engagement import Engagement, EngagementCoach, PlaybookSnapshot
from okr_rollout.models.event import Event
from okr_rollout.models.import_job import ImportJob
from okr_rollout.models.installation import Installation
from okr_rollout.models.notification import Notification, Reminder
from okr_rollout.models.organization import CalendarFeed, Department, Organization, Person, PersonDepartment
from okr_rollout.models.readiness import ReadinessSnapshot
from okr_rollout.models.task import ChecklistItem, Task
from okr_rollout.models.user import User, WebSession
from okr_rollout.models.wave import Wave
from okr_rollout.models.webhook import WebhookAttempt, WebhookSubscription

__all__ = [
    "ApiToken",
    "Appointment",
    "CalendarFeed",
    "CeoSupportStatement",
    "CheckIn",
    "ChecklistItem",
    "ClientLink",
    "Department",
    "DraftingGroup",
    "Engagement",
    "EngagementCoach",
    "Event",
    "IdempotencyRecord",
    "ImportJob",
    "Installation",
    "KeyResult",
    "Meeting",
    "Notification",
    "Okr",
    "Organization",
    "Person",
    "PersonDepartment",
    "PlaybookSnapshot",
    "Pulse",
    "Quarter",
    "ReadinessSnapshot",
    "Reminder",
    "SignInThrottle",
    "Task",
    "TaskAssignee",
    "TrainingSession",
    "User",
    "Wave",
    "WebSession",
    "WebhookAttempt",
    "WebhookSubscription",
]
