import { useState } from "react";
import { keepPreviousData } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useCategories } from "../categories";
import { useApi } from "../context";
import { formatLevel, LEVELS, type Level } from "../format";
import { useDebounced } from "../useDebounced";
import { usePageTitle } from "../usePageTitle";
import { CourseCard } from "../components/CourseCard";
import { PagedList, useCursorPages } from "../components/PagedList";
import { ErrorMessage } from "../components/Status";
import { SelectField, TextField } from "../components/Field";

type Sort = "newest" | "rating" | "price_asc" | "price_desc" | "popular";

const PAGE_SIZE = 12;

export function CataloguePage() {
  const api = useApi();
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [level, setLevel] = useState<Level | "">("");
  const [price, setPrice] = useState<"" | "free" | "paid">("");
  const [priceMin, setPriceMin] = useState("");
  const [priceMax, setPriceMax] = useState("");
  const [minRating, setMinRating] = useState("");
  const [sort, setSort] = useState<Sort>("newest");

  usePageTitle("Courses");

  const typed = useDebounced({ q: q.trim(), priceMin: priceMin.trim(), priceMax: priceMax.trim() }, 300);

  const categories = useCategories();

  const query = {
    ...(typed.q ? { q: typed.q } : {}),
    ...(category ? { category_id: category } : {}),
    ...(level ? { level } : {}),
    ...(price ? { is_free: price === "free" } : {}),
    ...(typed.priceMin ? { price_min: typed.priceMin } : {}),
    ...(typed.priceMax ? { price_max: typed.priceMax } : {}),
    ...(minRating ? { min_rating: minRating } : {}),
    sort,
  };

  const courses = useCursorPages(
    ["catalogue", query],
    (page, { signal }) =>
      // price bounds are typed as numbers or strings; the API takes either
      unwrap(api.GET("/courses", { params: { query: { ...query, ...page } as never }, signal })),
    { limit: PAGE_SIZE, placeholderData: keepPreviousData },
  );

  const fields = fieldErrorsOf(courses.error);

  return (
    <>
      <h1>Courses</h1>
      <form className="filters" role="search" aria-label="Course filters" onSubmit={(e) => e.preventDefault()}>
        <TextField
          label="Search courses"
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          maxLength={200}
          error={fields.q}
        />
        <SelectField label="Category" value={category} onChange={(e) => setCategory(e.target.value)} error={fields.category_id}>
          <option value="">All categories</option>
          {categories.data?.items.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <SelectField label="Level" value={level} onChange={(e) => setLevel(e.target.value as Level | "")}>
          <option value="">All levels</option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {formatLevel(l)}
            </option>
          ))}
        </SelectField>
        <SelectField label="Free or paid" value={price} onChange={(e) => setPrice(e.target.value as "" | "free" | "paid")}>
          <option value="">Free and paid</option>
          <option value="free">Free only</option>
          <option value="paid">Paid only</option>
        </SelectField>
        <TextField
          label="Minimum price"
          inputMode="decimal"
          value={priceMin}
          onChange={(e) => setPriceMin(e.target.value)}
          error={fields.price_min}
        />
        <TextField
          label="Maximum price"
          inputMode="decimal"
          value={priceMax}
          onChange={(e) => setPriceMax(e.target.value)}
          error={fields.price_max}
        />
        <SelectField label="Minimum rating" value={minRating} onChange={(e) => setMinRating(e.target.value)} error={fields.min_rating}>
          <option value="">Any rating</option>
          <option value="4.5">4.5 and up</option>
          <option value="4">4 and up</option>
          <option value="3">3 and up</option>
          <option value="2">2 and up</option>
          <option value="1">1 and up</option>
        </SelectField>
        <SelectField label="Sort by" value={sort} onChange={(e) => setSort(e.target.value as Sort)}>
          <option value="newest">Newest</option>
          <option value="rating">Highest rated</option>
          <option value="price_asc">Price: low to high</option>
          <option value="price_desc">Price: high to low</option>
          <option value="popular">Most popular</option>
        </SelectField>
      </form>
      {categories.isError ? <ErrorMessage error={categories.error} prefix="Categories could not be loaded" /> : null}

      <section aria-labelledby="results-heading" aria-busy={courses.isFetching}>
        <h2 id="results-heading" className="visually-hidden">
          Results
        </h2>
        <PagedList
          list={courses}
          loadingLabel="Loading courses…"
          errorPrefix="Courses could not be loaded"
          empty={
            <p className="empty" role="status">
              No courses match your search. Try other words or fewer filters.
            </p>
          }
          loadingMoreLabel="Loading more…"
        >
          {(items) =>
            items.length > 0 ? (
              <ul className="cards">
                {items.map((course) => (
                  <li key={course.id}>
                    <CourseCard course={course} />
                  </li>
                ))}
              </ul>
            ) : null
          }
        </PagedList>
        {courses.isFetchNextPageError ? <ErrorMessage error={courses.error} prefix="More courses could not be loaded" /> : null}
      </section>
    </>
  );
}
