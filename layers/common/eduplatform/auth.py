"""Who calls: the principal of a route's bearer token, and the dependencies that require one.

A route that takes a token declares its caller with these (``CurrentUser``, ``OptionalUser``,
``AdminUser``, ``role_required``) and its OpenAPI security with ``eduplatform.http``'s
``BEARER_AUTH``. A token is a JWT (``eduplatform.security``) whose session has not ended
(``eduplatform.limits``, in Redis). Its own module: a route without a caller (the catalogue, the
health check) imports neither PyJWT nor redis-py for it.
"""

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, UnauthorizedError

from eduplatform.limits import limits
from eduplatform.principal import Principal, Role
from eduplatform.security import InvalidToken, decode_token

# A valid token whose login was logged out, or whose user's tokens were ended (logout everywhere,
# a password reset, an admin changing the account) after it was issued.
SESSION_ENDED = "Session ended"


def authenticated(request: Request) -> Principal:
    header = request.resolved_event.headers.get("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Not authenticated")
    try:
        principal = decode_token(token.strip())
    except InvalidToken as exc:
        raise UnauthorizedError(str(exc)) from exc
    if limits().session_ended(principal.user_id, principal.session_id, principal.issued_at_us):
        raise UnauthorizedError(SESSION_ENDED)
    return principal


def optional_caller(request: Request) -> Principal | None:
    """The caller of a public route that answers more to some callers: None without an
    Authorization header, 401 for a header that is not a valid bearer token."""
    if request.resolved_event.headers.get("Authorization") is None:
        return None
    return authenticated(request)


def _role_dependency(
    roles: tuple[Role, ...], message: str, verified: bool = False, unverified_message: str = ""
) -> Callable[..., Principal]:
    def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(message)
        if verified and not principal.is_verified:
            raise ForbiddenError(unverified_message)
        return principal

    return dependency


CurrentUser = Annotated[Principal, Depends(authenticated)]
OptionalUser = Annotated[Principal | None, Depends(optional_caller)]
AdminUser = Annotated[Principal, Depends(_role_dependency((Role.ADMIN,), "Admin access required"))]


def role_required(*roles: Role, message: str) -> Depends:
    """The dependency of a caller of one of ``roles`` (403 ``message`` otherwise):
    ``Student = Annotated[Principal, role_required(Role.STUDENT, message=...)]``."""
    return Depends(_role_dependency(roles, message))


def verified_role_required(role: Role, message: str, unverified_message: str) -> Depends:
    """As ``role_required``, for a verified caller of ``role`` (403 ``unverified_message`` otherwise)."""
    return Depends(_role_dependency((role,), message, True, unverified_message))
