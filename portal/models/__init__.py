"""Portal models, split by concern and re-exported here."""

from portal.models.audit import AuditChainHead, AuditEntry
from portal.models.jobs import Job, JobSchedule
from portal.models.realtime import RealtimeEvent, TopicSequence
from portal.models.tokens import ApiToken
from portal.models.users import Role, User

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEntry",
    "Job",
    "JobSchedule",
    "RealtimeEvent",
    "Role",
    "TopicSequence",
    "User",
]
