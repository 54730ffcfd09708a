"""Who a caller is: a user, their role and their login, as a verified access token states them.

Apart from ``eduplatform.security``, which makes and checks the tokens (PyJWT, bcrypt): the rules
that look at a caller, and the routes that may have none, do not import those.
"""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, taken from a verified token."""

    user_id: UUID
    role: Role
    is_verified: bool
    email_verified: bool = False
    session_id: UUID | None = None  # the login (refresh-token family) the token belongs to
    issued_at_us: int = 0
