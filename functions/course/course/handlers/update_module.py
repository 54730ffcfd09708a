from uuid import UUID

from eduplatform.http import BEARER_AUTH, api_responses, create_app, lambda_handler

from course import service
from course.access import CourseEditor
from course.schemas import ModuleOut, ModuleUpdate

app = create_app()


@app.put(
    "/modules/<module_id>",
    summary="Rename or reorder a module (its course's teacher)",
    tags=["course"],
    security=BEARER_AUTH,
    responses=api_responses((403, "Not a verified teacher, or not the course's teacher"), (404, "Module not found")),
)
def update_module(module_id: UUID, body: ModuleUpdate, teacher: CourseEditor) -> ModuleOut:
    return service.update_module(teacher, module_id, body)


handler = lambda_handler(app)
