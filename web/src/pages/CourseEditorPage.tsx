import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useApi, useSession } from "../context";
import { Checkbox, SelectField, TextArea, TextField } from "../components/Field";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { usePageTitle } from "../usePageTitle";
import { UnverifiedTeacher } from "./MyCoursesPage";

type Course = Schemas["CourseOut"];
type Level = Course["level"];

function toInt(value: string): number | undefined {
  return value.trim() === "" ? undefined : Number.parseInt(value, 10);
}

function CourseForm({ course }: { course: Course | null }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState(course?.title ?? "");
  const [description, setDescription] = useState(course?.description ?? "");
  const [level, setLevel] = useState<Level>(course?.level ?? "beginner");
  const [categoryId, setCategoryId] = useState(course?.category_id ?? "");
  const [isFree, setIsFree] = useState(course?.is_free ?? true);
  const [price, setPrice] = useState(course?.price ?? "");
  const [duration, setDuration] = useState(String(course?.duration_minutes ?? 0));
  const categories = useQuery({ queryKey: ["categories"], staleTime: 600_000, queryFn: () => unwrap(api.GET("/categories")) });

  const save = useMutation({
    mutationFn: () => {
      const body = {
        title,
        description: description || null,
        level,
        category_id: categoryId || null,
        is_free: isFree,
        ...(isFree ? {} : { price }),
        duration_minutes: toInt(duration) ?? 0,
      };
      return course
        ? unwrap(api.PUT("/courses/{course_id}", { params: { path: { course_id: course.id } }, body }))
        : unwrap(api.POST("/courses", { body }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(["course", saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ["my-courses"] });
      void queryClient.invalidateQueries({ queryKey: ["catalogue"] });
      void queryClient.invalidateQueries({ queryKey: ["curriculum", saved.id] });
      if (!course) void navigate(`/teach/courses/${saved.id}`, { replace: true });
    },
  });
  const fields = fieldErrorsOf(save.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Course details">
      <TextField label="Title" required maxLength={500} value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
      <TextArea
        label="Description"
        rows={6}
        hint="Formatting with HTML (p, strong, lists, links, headings) is kept; scripts and styles are removed."
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        error={fields.description}
      />
      <SelectField label="Level" value={level} onChange={(e) => setLevel(e.target.value as Level)} error={fields.level}>
        <option value="beginner">Beginner</option>
        <option value="intermediate">Intermediate</option>
        <option value="advanced">Advanced</option>
      </SelectField>
      <SelectField label="Category" value={categoryId} onChange={(e) => setCategoryId(e.target.value)} error={fields.category_id}>
        <option value="">No category</option>
        {categories.data?.items.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </SelectField>
      <Checkbox label="Free course" checked={isFree} onChange={(e) => setIsFree(e.target.checked)} />
      {!isFree ? (
        <TextField label="Price" inputMode="decimal" hint="In dollars, e.g. 49.99" value={price} onChange={(e) => setPrice(e.target.value)} error={fields.price} />
      ) : null}
      <TextField
        label="Duration (minutes)"
        type="number"
        min={0}
        value={duration}
        onChange={(e) => setDuration(e.target.value)}
        error={fields.duration_minutes}
      />
      <ErrorMessage error={save.isError && Object.keys(fields).length === 0 ? save.error : null} />
      {save.isError && Object.keys(fields).length > 0 ? (
        <p role="alert" className="error">
          Please correct the fields marked above.
        </p>
      ) : null}
      {save.isSuccess && course ? <Notice>Course saved.</Notice> : null}
      <button type="submit" className="button button-primary" disabled={save.isPending}>
        {course ? "Save course" : "Create course"}
      </button>
    </form>
  );
}

function LessonEditor({ lesson, courseId }: { lesson: Schemas["LessonOut"]; courseId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(lesson.title);
  const [content, setContent] = useState(lesson.content ?? "");
  const [videoUrl, setVideoUrl] = useState(lesson.video_url ?? "");
  const [duration, setDuration] = useState(String(lesson.duration_minutes));
  const [order, setOrder] = useState(String(lesson.order));
  const [preview, setPreview] = useState(lesson.is_preview);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["curriculum", courseId] });
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT("/lessons/{lesson_id}", {
          params: { path: { lesson_id: lesson.id } },
          body: {
            title,
            content: content || null,
            video_url: videoUrl.trim() || null,
            duration_minutes: toInt(duration) ?? 0,
            ...(toInt(order) !== undefined ? { order: toInt(order) } : {}),
            is_preview: preview,
          },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/lessons/{lesson_id}", { params: { path: { lesson_id: lesson.id } } })),
    onSuccess: refresh,
  });
  const fields = fieldErrorsOf(save.error);
  return (
    <li>
      <details>
        <summary>
          Lesson: {lesson.title}
          {lesson.is_preview ? " (preview)" : ""}
        </summary>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
          noValidate
          aria-label={`Lesson ${lesson.title}`}
        >
          <TextField label="Lesson title" value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
          <TextArea label="Content" rows={6} value={content} onChange={(e) => setContent(e.target.value)} error={fields.content} />
          <TextField label="Video URL" type="url" value={videoUrl} onChange={(e) => setVideoUrl(e.target.value)} error={fields.video_url} />
          <TextField label="Lesson duration (minutes)" type="number" min={0} value={duration} onChange={(e) => setDuration(e.target.value)} error={fields.duration_minutes} />
          <TextField label="Lesson order" type="number" min={0} value={order} onChange={(e) => setOrder(e.target.value)} error={fields.order} />
          <Checkbox label="Free preview" checked={preview} onChange={(e) => setPreview(e.target.checked)} />
          {save.isError && Object.keys(fields).length === 0 ? <ErrorMessage error={save.error} /> : null}
          {save.isSuccess ? <Notice>Lesson saved.</Notice> : null}
          <div className="actions">
            <button type="submit" className="button" disabled={save.isPending}>
              Save lesson
            </button>
            <button
              type="button"
              className="button button-danger"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete the lesson “${lesson.title}”?`)) remove.mutate();
              }}
            >
              Delete lesson
            </button>
          </div>
          <ErrorMessage error={remove.error} prefix="The lesson could not be deleted" />
        </form>
      </details>
    </li>
  );
}

function ModuleEditor({ module, courseId }: { module: Schemas["ModuleWithLessons"]; courseId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(module.title);
  const [order, setOrder] = useState(String(module.order));
  const [lessonTitle, setLessonTitle] = useState("");
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["curriculum", courseId] });
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT("/modules/{module_id}", {
          params: { path: { module_id: module.id } },
          body: { title, ...(toInt(order) !== undefined ? { order: toInt(order) } : {}) },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/modules/{module_id}", { params: { path: { module_id: module.id } } })),
    onSuccess: refresh,
  });
  const addLesson = useMutation({
    mutationFn: () => unwrap(api.POST("/modules/{module_id}/lessons", { params: { path: { module_id: module.id } }, body: { title: lessonTitle, duration_minutes: 0, is_preview: false } })),
    onSuccess: () => {
      setLessonTitle("");
      refresh();
    },
  });
  const fields = fieldErrorsOf(save.error);
  const lessonFields = fieldErrorsOf(addLesson.error);
  return (
    <li className="module-editor">
      <section aria-label={`Module ${module.title}`}>
        <h3>Module: {module.title}</h3>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
          noValidate
          className="inline-form"
          aria-label={`Edit module ${module.title}`}
        >
          <TextField label="Module title" value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
          <TextField label="Module order" type="number" min={0} value={order} onChange={(e) => setOrder(e.target.value)} error={fields.order} />
          <div className="actions">
            <button type="submit" className="button" disabled={save.isPending}>
              Save module
            </button>
            <button
              type="button"
              className="button button-danger"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete the module “${module.title}” and its lessons?`)) remove.mutate();
              }}
            >
              Delete module
            </button>
          </div>
          {save.isError && Object.keys(fields).length === 0 ? <ErrorMessage error={save.error} /> : null}
          {save.isSuccess ? <Notice>Module saved.</Notice> : null}
          <ErrorMessage error={remove.error} prefix="The module could not be deleted" />
        </form>
        <ol className="lessons">
          {module.lessons.map((l) => (
            <LessonEditor key={`${l.id}-${l.title}-${l.order}`} lesson={l} courseId={courseId} />
          ))}
        </ol>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            addLesson.mutate();
          }}
          noValidate
          className="inline-form"
          aria-label={`Add a lesson to ${module.title}`}
        >
          <TextField label="New lesson title" value={lessonTitle} onChange={(e) => setLessonTitle(e.target.value)} error={lessonFields.title} />
          <button type="submit" className="button" disabled={addLesson.isPending}>
            Add lesson
          </button>
          {addLesson.isError && !lessonFields.title ? <ErrorMessage error={addLesson.error} /> : null}
        </form>
      </section>
    </li>
  );
}

function Modules({ courseId }: { courseId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { claims } = useSession();
  const [title, setTitle] = useState("");
  const curriculum = useQuery({
    queryKey: ["curriculum", courseId, claims?.sub],
    queryFn: () => unwrap(api.GET("/courses/{course_id}/curriculum", { params: { path: { course_id: courseId } } })),
  });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST("/courses/{course_id}/modules", { params: { path: { course_id: courseId } }, body: { title } })),
    onSuccess: () => {
      setTitle("");
      void queryClient.invalidateQueries({ queryKey: ["curriculum", courseId] });
    },
  });
  const fields = fieldErrorsOf(add.error);
  return (
    <section aria-labelledby="modules-heading">
      <h2 id="modules-heading">Modules and lessons</h2>
      {curriculum.isPending ? <Loading label="Loading modules…" /> : null}
      <ErrorMessage error={curriculum.error} prefix="The modules could not be loaded" />
      {curriculum.data?.modules.length === 0 ? <p>No modules yet.</p> : null}
      <ol className="modules">
        {curriculum.data?.modules.map((m) => (
          <ModuleEditor key={`${m.id}-${m.title}-${m.order}`} module={m} courseId={courseId} />
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
        noValidate
        className="inline-form"
        aria-label="Add a module"
      >
        <TextField label="New module title" value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
        <button type="submit" className="button" disabled={add.isPending}>
          Add module
        </button>
        {add.isError && !fields.title ? <ErrorMessage error={add.error} /> : null}
      </form>
    </section>
  );
}

function Editor({ courseId }: { courseId: string | undefined }) {
  const api = useApi();
  const course = useQuery({
    queryKey: ["course", courseId],
    enabled: Boolean(courseId),
    queryFn: () => unwrap(api.GET("/courses/{course_id}", { params: { path: { course_id: courseId! } } })),
  });
  if (!courseId) {
    return (
      <>
        <h1>Create course</h1>
        <CourseForm course={null} />
      </>
    );
  }
  if (course.isPending) return <Loading label="Loading the course…" />;
  if (course.isError)
    return (
      <>
        <h1>Edit course</h1>
        <ErrorMessage error={course.error} />
      </>
    );
  return (
    <>
      <h1>Edit course: {course.data.title}</h1>
      <p>
        <Link to={`/courses/${courseId}`}>View the public page</Link>
      </p>
      <CourseForm key={course.data.id} course={course.data} />
      <Modules courseId={courseId} />
    </>
  );
}

export default function CourseEditorPage() {
  const { courseId } = useParams();
  const { claims } = useSession();
  const title = courseId ? "Edit course" : "Create course";
  usePageTitle(title);
  return (
    <RequireAuth title={title} roles={["teacher"]}>
      {claims?.is_verified ? (
        <Editor courseId={courseId} />
      ) : (
        <>
          <h1>{title}</h1>
          <UnverifiedTeacher />
        </>
      )}
    </RequireAuth>
  );
}
