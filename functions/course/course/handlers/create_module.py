from uuid import UUID

from eduplatform.http import BEARER_AUTH, create_app, created, lambda_handler

from course import service
from course.access import CourseEditor
from course.schemas import ModuleCreate, ModuleOut

app = create_app()


@app.post("/courses/<course_id>/modules", summary="Add a module to a course (its teacher)", tags=["course"],
          security=BEARER_AUTH, responses={201: {"description": "The new module", "content": {"application/json": {"model": ModuleOut}}}})
def create_module(course_id: UUID, body: ModuleCreate, teacher: CourseEditor):
    return created(service.create_module(teacher, course_id, body))


handler = lambda_handler(app)
