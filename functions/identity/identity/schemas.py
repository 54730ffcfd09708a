"""Request and response models of the identity API."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, EmailStr, Field

from eduplatform.security import BCRYPT_MAX_PASSWORD_BYTES
from eduplatform.types import ApiModel, Timestamp, multi_line_text, plain_text, single_line_text


def _fits_bcrypt(password: str) -> str:
    if len(password.encode()) > BCRYPT_MAX_PASSWORD_BYTES:
        raise ValueError(f"Password must be at most {BCRYPT_MAX_PASSWORD_BYTES} bytes long")
    return password


# maxLength 72 is the bound in characters a schema can state; the validator counts the UTF-8 bytes.
# repr=False: a request model is printed whole by debug logs (Powertools logs a route's arguments).
# Passwords follow the multi-line text rule (a tab is fine, NUL and unpaired surrogates are not).
NewPassword = Annotated[
    str,
    *multi_line_text(max_length=BCRYPT_MAX_PASSWORD_BYTES, min_length=8),
    Field(repr=False),
    AfterValidator(_fits_bcrypt),
]
Name = Annotated[str, *plain_text(max_length=255, min_length=1)]  # names are plain text (markup refused)
Email = Annotated[str, *single_line_text(max_length=320, min_length=1, strip=False)]


# A well-formed address (email-validator refuses control characters itself).
EmailAddress = Annotated[EmailStr, Field(max_length=320)]


class RegisterRequest(ApiModel):
    email: EmailAddress
    password: NewPassword
    name: Name
    role: Literal["student", "teacher"] = "student"


class LoginRequest(ApiModel):
    email: Email
    password: Annotated[str, *multi_line_text(max_length=1024, min_length=1), Field(repr=False)]


# An opaque token a client hands back: a refresh token (43 URL-safe characters) or an email link's
# token (43 as well); the bound leaves room for neither more nor other characters.
OpaqueToken = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$", repr=False)]


class TokenResponse(ApiModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Lifetime of the access token in seconds")
    refresh_token: str = Field(description="Single-use token for POST /refresh (valid 30 days by default)")


class RefreshRequest(ApiModel):
    refresh_token: OpaqueToken


class EmailTokenRequest(ApiModel):
    token: OpaqueToken


class ForgotPasswordRequest(ApiModel):
    email: EmailAddress  # not an address: 422, as POST /register; an unknown one: still 202


class ResetPasswordRequest(ApiModel):
    token: OpaqueToken
    new_password: NewPassword


class Accepted(ApiModel):
    """A request taken; what follows happens by email."""

    message: str


class EmailVerified(ApiModel):
    id: UUID
    email: str
    email_verified: Literal[True] = True


class UserOut(ApiModel):
    id: UUID
    email: str
    name: str
    role: Literal["student", "teacher", "admin"]
    is_verified: bool
    email_verified: bool
    created_at: Timestamp


class PendingTeacher(ApiModel):
    id: UUID
    email: str
    name: str
    created_at: Timestamp
