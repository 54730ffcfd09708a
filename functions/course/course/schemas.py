"""Request and response models of the course API."""

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    TypeAdapter,
    field_validator,
    model_validator,
)

from eduplatform.types import ApiModel, Money, MoneyAmount, Timestamp, plain_text, rich_text, single_line_text

FREE_COURSE_HAS_NO_PRICE = "A free course has no price"
PAID_COURSE_NEEDS_PRICE = "A paid course needs a price greater than 0"
SEARCH_TERM_MAX_LENGTH = 200

Level = Literal["beginner", "intermediate", "advanced"]
Sort = Literal["newest", "rating", "price_asc", "price_desc", "popular"]


_HTTP_URL = TypeAdapter(HttpUrl)


def _http_url(text: str) -> str:
    _HTTP_URL.validate_python(text)
    return text  # stored as the teacher wrote it, not pydantic's normalised form


# Titles and comments are plain text (markup refused); descriptions and lesson content are rich
# text, stored sanitised (eduplatform.text).
Title = Annotated[str, *plain_text(max_length=500, min_length=1)]
Description = Annotated[str, *rich_text(max_length=10_000)]
LessonContent = Annotated[str, *rich_text(max_length=100_000)]
Comment = Annotated[str, *plain_text(max_length=5_000, multi_line=True)]
VideoUrl = Annotated[str, *single_line_text(max_length=2_083), AfterValidator(_http_url)]
Price = MoneyAmount
Minutes = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Position = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Rating = Annotated[int, Field(strict=True, ge=1, le=5)]
# A control character in a term could match across the U+001F that separates title and
# description in the stored search text (and means nothing to a person).
SearchTerm = Annotated[str, *single_line_text(max_length=SEARCH_TERM_MAX_LENGTH, strip=False)]


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("May be omitted but not null")
    return value


def price_rule_violation(is_free: bool, price: Decimal | None) -> str | None:
    """Why (is_free, price) is inconsistent, or None when it is fine."""
    if is_free and price is not None:
        return FREE_COURSE_HAS_NO_PRICE
    if not is_free and price is None:
        return PAID_COURSE_NEEDS_PRICE
    return None


# ---- courses ---------------------------------------------------------------------------------------


class CourseCreate(ApiModel):
    title: Title
    description: Description | None = None
    is_free: StrictBool
    price: Price | None = None
    duration_minutes: Minutes = 0
    level: Level = "beginner"
    category_id: UUID | None = None

    @model_validator(mode="after")
    def _price_matches_is_free(self) -> "CourseCreate":
        problem = price_rule_violation(self.is_free, self.price)
        if problem:
            raise ValueError(problem)
        return self


class CourseUpdate(ApiModel):
    """Every field optional; only the fields present change. Setting is_free to true clears the price."""

    title: Title | None = None
    description: Description | None = None
    is_free: StrictBool | None = None
    price: Price | None = None
    duration_minutes: Minutes | None = None
    level: Level | None = None
    category_id: UUID | None = None  # null: no category

    _not_nullable = field_validator("title", "is_free", "duration_minutes", "level")(_refuse_null)


class CourseOut(ApiModel):
    id: UUID
    teacher_id: UUID
    # From identity's UserRegistered event of the teacher (course.teacher_consumer); null until it is applied.
    teacher_name: str | None
    title: str
    description: str | None
    is_free: bool
    price: Money | None
    duration_minutes: int
    level: Level
    avg_rating: float | None
    review_count: int
    created_at: Timestamp
    category_id: UUID | None


class CategoryOut(ApiModel):
    id: UUID
    slug: str
    name: str


class CategoryList(ApiModel):
    items: list[CategoryOut]


class CatalogueQuery(ApiModel):
    """What selects and orders a catalogue page (GET /courses), pagination aside.

    A free course's price counts as 0 for price_min, price_max and the price sorts; a course
    without reviews has no rating, fails every min_rating and comes last under sort=rating.
    """

    model_config = ConfigDict(frozen=True)

    q: str | None = None
    category_id: UUID | None = None
    level: Level | None = None
    is_free: bool | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    min_rating: Decimal | None = None
    sort: Sort = "newest"

    @property
    def term(self) -> str | None:
        return (self.q or "").strip() or None  # a blank q lists everything

    @property
    def filtered(self) -> bool:
        """Anything narrowing the catalogue (the unfiltered count is kept in a table)."""
        return any(
            value is not None
            for value in (
                self.term,
                self.category_id,
                self.level,
                self.is_free,
                self.price_min,
                self.price_max,
                self.min_rating,
            )
        )


# ---- modules and lessons ------------------------------------------------------------------------------


class ModuleCreate(ApiModel):
    title: Title
    order: Position | None = None  # default: after the course's last module


class ModuleUpdate(ApiModel):
    title: Title | None = None
    order: Position | None = None

    _not_nullable = field_validator("title", "order")(_refuse_null)


class ModuleOut(ApiModel):
    id: UUID
    course_id: UUID
    title: str
    order: int
    created_at: Timestamp


class LessonCreate(ApiModel):
    title: Title
    content: LessonContent | None = None
    video_url: VideoUrl | None = None
    duration_minutes: Minutes = 0
    order: Position | None = None  # default: after the module's last lesson
    is_preview: StrictBool = False  # open to everyone, even in a paid course


class LessonUpdate(ApiModel):
    title: Title | None = None
    content: LessonContent | None = None
    video_url: VideoUrl | None = None
    duration_minutes: Minutes | None = None
    order: Position | None = None
    is_preview: StrictBool | None = None

    _not_nullable = field_validator("title", "duration_minutes", "order", "is_preview")(_refuse_null)


class LessonOut(ApiModel):
    """A lesson; in a curriculum, ``content`` and ``video_url`` are null for a lesson the caller may not open."""

    id: UUID
    module_id: UUID
    title: str
    content: str | None
    video_url: str | None
    duration_minutes: int
    order: int
    is_preview: bool
    created_at: Timestamp


class StoredLesson(LessonOut):
    """A lesson with its course (what its access is decided from); cached, never answered as such."""

    course_id: UUID


class ModuleWithLessons(ModuleOut):
    lessons: list[LessonOut]


class Curriculum(ApiModel):
    course: CourseOut
    modules: list[ModuleWithLessons]
    total_lessons: int


# ---- reviews ------------------------------------------------------------------------------------------------


class ReviewCreate(ApiModel):
    course_id: UUID
    rating: Rating
    comment: Comment | None = None


class ReviewOut(ApiModel):
    id: UUID
    student_id: UUID
    course_id: UUID
    rating: int
    comment: str | None
    created_at: Timestamp
