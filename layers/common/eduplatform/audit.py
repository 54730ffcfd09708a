"""The audit trail: one structured log line per security-relevant action, through the Powertools logger.

Every line is ``{"message": "audit", "audit": <action>, "actor": ..., "subject": ..., ...}``:
ids only (users, sessions, modules, lessons), never an email address, a password, a token or a
secret. An unknown account is named by the same SHA-256 prefix the limit store keys it by.
"""

from uuid import UUID

from eduplatform.observability import logger

LOGIN_FAILED = "login_failed"
LOGIN_LOCKED = "login_locked"
ACCOUNT_LOCKED = "account_locked"
LOGOUT = "logout"
LOGOUT_ALL = "logout_all"
PASSWORD_RESET = "password_reset"
TEACHER_VERIFIED = "teacher_verified"
MODULE_DELETED = "module_deleted"
LESSON_DELETED = "lesson_deleted"

type AuditValue = UUID | str | int | bool | None


def audit(action: str, *, actor: UUID | None = None, subject: UUID | str | None = None, **details: AuditValue) -> None:
    """Log ``action`` by ``actor`` (the caller, when known) on ``subject``; ``details`` are ids and counts."""
    fields: dict[str, object] = {"audit": action}
    if actor is not None:
        fields["actor"] = str(actor)
    if subject is not None:
        fields["subject"] = str(subject)
    for name, value in details.items():
        fields[name] = str(value) if isinstance(value, UUID) else value
    logger.info("audit", extra=fields)
