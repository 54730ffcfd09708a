from eduplatform.http import create_app, lambda_handler

from course import service
from course.schemas import CategoryList

app = create_app()


@app.get("/categories", summary="Every course category, ordered by name", tags=["course"])
def list_categories() -> CategoryList:
    return service.categories()


handler = lambda_handler(app)
