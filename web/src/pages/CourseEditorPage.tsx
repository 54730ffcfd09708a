import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useCategories } from "../categories";
import { useApi, useSession } from "../context";
import { useCourse, useCurriculum } from "../courses";
import { formatLevel, LEVELS, type Level } from "../format";
import { Checkbox } from "../components/Checkbox";
import { SelectField, TextArea, TextField } from "../components/Field";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { usePageTitle } from "../usePageTitle";
import { UnverifiedTeacher } from "./MyCoursesPage";

type Course = Schemas["CourseOut"];

function toInt(value: string): number | undefined {
  return value.trim() === "" ? undefined : Number.parseInt(value, 10);
}

/** `{order}` from the order field; nothing when it is empty, which keeps the current order. */
function orderOf(value: string): { order?: number } {
  const order = toInt(value);
  return order === undefined ? {} : { order };
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
  const categories = useCategories();

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
        {LEVELS.map((l) => (
          <option key={l} value={l}>
            {formatLevel(l)}
          </option>
        ))}
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

/** Marks the course's curriculum stale after a change (not awaited: the form is usable again at once). */
function useCurriculumChanged(courseId: string): () => void {
  const queryClient = useQueryClient();
  return () => void queryClient.invalidateQueries({ queryKey: ["curriculum", courseId] });
}

/** The form of a module or a lesson: its fields, Save, Delete (once confirmed), and how each went. */
function PartForm({
  noun,
  label,
  inline = false,
  confirmDelete,
  save,
  remove,
  onChanged,
  children,
}: {
  noun: "module" | "lesson";
  label: string;
  /** Fields and buttons on one row (`inline-form`); what came of saving then follows the buttons. */
  inline?: boolean;
  confirmDelete: string;
  save: () => Promise<unknown>;
  remove: () => Promise<unknown>;
  onChanged: () => void;
  /** The fields, given the API's messages for them. */
  children: (fieldErrors: Record<string, string>) => ReactNode;
}) {
  const saving = useMutation({ mutationFn: save, onSuccess: onChanged });
  const removing = useMutation({ mutationFn: remove, onSuccess: onChanged });
  const fields = fieldErrorsOf(saving.error);
  const outcome = (
    <>
      {saving.isError && Object.keys(fields).length === 0 ? <ErrorMessage error={saving.error} /> : null}
      {saving.isSuccess ? <Notice>{`${noun === "module" ? "Module" : "Lesson"} saved.`}</Notice> : null}
    </>
  );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        saving.mutate();
      }}
      noValidate
      className={inline ? "inline-form" : undefined}
      aria-label={label}
    >
      {children(fields)}
      {inline ? null : outcome}
      <div className="actions">
        <button type="submit" className="button" disabled={saving.isPending}>
          {`Save ${noun}`}
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={removing.isPending}
          onClick={() => {
            if (window.confirm(confirmDelete)) removing.mutate();
          }}
        >
          {`Delete ${noun}`}
        </button>
      </div>
      {inline ? outcome : null}
      <ErrorMessage error={removing.error} prefix={`The ${noun} could not be deleted`} />
    </form>
  );
}

/** A form of one title field that creates a module or a lesson, and empties the field once it has. */
function AddByTitle({
  label,
  fieldLabel,
  submitLabel,
  create,
  onAdded,
}: {
  label: string;
  fieldLabel: string;
  submitLabel: string;
  create: (title: string) => Promise<unknown>;
  onAdded: () => void;
}) {
  const [title, setTitle] = useState("");
  const add = useMutation({
    mutationFn: () => create(title),
    onSuccess: () => {
      setTitle("");
      onAdded();
    },
  });
  const fields = fieldErrorsOf(add.error);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
      noValidate
      className="inline-form"
      aria-label={label}
    >
      <TextField label={fieldLabel} value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
      <button type="submit" className="button" disabled={add.isPending}>
        {submitLabel}
      </button>
      {add.isError && !fields.title ? <ErrorMessage error={add.error} /> : null}
    </form>
  );
}

function LessonEditor({ lesson, courseId }: { lesson: Schemas["LessonOut"]; courseId: string }) {
  const api = useApi();
  const [title, setTitle] = useState(lesson.title);
  const [content, setContent] = useState(lesson.content ?? "");
  const [videoUrl, setVideoUrl] = useState(lesson.video_url ?? "");
  const [duration, setDuration] = useState(String(lesson.duration_minutes));
  const [order, setOrder] = useState(String(lesson.order));
  const [preview, setPreview] = useState(lesson.is_preview);
  const params = { path: { lesson_id: lesson.id } };
  const changed = useCurriculumChanged(courseId);
  return (
    <li>
      <details>
        <summary>
          Lesson: {lesson.title}
          {lesson.is_preview ? " (preview)" : ""}
        </summary>
        <PartForm
          noun="lesson"
          label={`Lesson ${lesson.title}`}
          confirmDelete={`Delete the lesson “${lesson.title}”?`}
          save={() =>
            unwrap(
              api.PUT("/lessons/{lesson_id}", {
                params,
                body: {
                  title,
                  content: content || null,
                  video_url: videoUrl.trim() || null,
                  duration_minutes: toInt(duration) ?? 0,
                  ...orderOf(order),
                  is_preview: preview,
                },
              }),
            )
          }
          remove={() => unwrap(api.DELETE("/lessons/{lesson_id}", { params }))}
          onChanged={changed}
        >
          {(fields) => (
            <>
              <TextField label="Lesson title" value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
              <TextArea label="Content" rows={6} value={content} onChange={(e) => setContent(e.target.value)} error={fields.content} />
              <TextField label="Video URL" type="url" value={videoUrl} onChange={(e) => setVideoUrl(e.target.value)} error={fields.video_url} />
              <TextField
                label="Lesson duration (minutes)"
                type="number"
                min={0}
                value={duration}
                onChange={(e) => setDuration(e.target.value)}
                error={fields.duration_minutes}
              />
              <TextField label="Lesson order" type="number" min={0} value={order} onChange={(e) => setOrder(e.target.value)} error={fields.order} />
              <Checkbox label="Free preview" checked={preview} onChange={(e) => setPreview(e.target.checked)} />
            </>
          )}
        </PartForm>
      </details>
    </li>
  );
}

function ModuleEditor({ module, courseId }: { module: Schemas["ModuleWithLessons"]; courseId: string }) {
  const api = useApi();
  const [title, setTitle] = useState(module.title);
  const [order, setOrder] = useState(String(module.order));
  const changed = useCurriculumChanged(courseId);
  const params = { path: { module_id: module.id } };
  return (
    <li className="module-editor">
      <section aria-label={`Module ${module.title}`}>
        <h3>Module: {module.title}</h3>
        <PartForm
          noun="module"
          label={`Edit module ${module.title}`}
          inline
          confirmDelete={`Delete the module “${module.title}” and its lessons?`}
          save={() => unwrap(api.PUT("/modules/{module_id}", { params, body: { title, ...orderOf(order) } }))}
          remove={() => unwrap(api.DELETE("/modules/{module_id}", { params }))}
          onChanged={changed}
        >
          {(fields) => (
            <>
              <TextField label="Module title" value={title} onChange={(e) => setTitle(e.target.value)} error={fields.title} />
              <TextField label="Module order" type="number" min={0} value={order} onChange={(e) => setOrder(e.target.value)} error={fields.order} />
            </>
          )}
        </PartForm>
        <ol className="lessons">
          {module.lessons.map((l) => (
            <LessonEditor key={`${l.id}-${l.title}-${l.order}`} lesson={l} courseId={courseId} />
          ))}
        </ol>
        <AddByTitle
          label={`Add a lesson to ${module.title}`}
          fieldLabel="New lesson title"
          submitLabel="Add lesson"
          create={(lessonTitle) =>
            unwrap(api.POST("/modules/{module_id}/lessons", { params, body: { title: lessonTitle, duration_minutes: 0, is_preview: false } }))
          }
          onAdded={changed}
        />
      </section>
    </li>
  );
}

function Modules({ courseId }: { courseId: string }) {
  const api = useApi();
  const curriculum = useCurriculum(courseId);
  const changed = useCurriculumChanged(courseId);
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
      <AddByTitle
        label="Add a module"
        fieldLabel="New module title"
        submitLabel="Add module"
        create={(title) => unwrap(api.POST("/courses/{course_id}/modules", { params: { path: { course_id: courseId } }, body: { title } }))}
        onAdded={changed}
      />
    </section>
  );
}

function Editor({ courseId }: { courseId: string | undefined }) {
  const course = useCourse(courseId ?? "", { enabled: Boolean(courseId) });
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
