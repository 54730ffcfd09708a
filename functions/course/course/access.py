"""Who may call the course endpoints that need a token (403 messages included)."""

from typing import Annotated

from eduplatform.auth import role_required, verified_role_required
from eduplatform.principal import Principal, Role

CourseCreator = Annotated[
    Principal,
    verified_role_required(
        Role.TEACHER,
        message="Only teachers can create courses",
        unverified_message="Only verified teachers can create courses",
    ),
]
# Editing a course, its modules or lessons: a verified teacher; ownership is checked by the service.
CourseEditor = Annotated[
    Principal,
    verified_role_required(
        Role.TEACHER,
        message="Only teachers can edit courses",
        unverified_message="Only verified teachers can edit courses",
    ),
]
Teacher = Annotated[Principal, role_required(Role.TEACHER, message="Only teachers have courses of their own")]
Student = Annotated[Principal, role_required(Role.STUDENT, message="Only students can review courses")]
