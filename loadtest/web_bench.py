"""The web app's size and speed as a person meets it: through the stack's CloudFront in headless Chromium.

    .venv/bin/python -m loadtest.web_bench [--runs 5]          # make web-bench

Reports, for the build in web/dist and the running `make up` stack (seeded: `make seed`):

- the JavaScript and CSS the first page loads (the entry script, the chunks it preloads, its
  stylesheets), raw and gzipped, against the budget of 100 kB of gzipped JavaScript;
- the time from navigation to the catalogue's first course card, and to an interactive lesson page
  (a seeded student's lesson with its "Complete lesson" button enabled), each cold (a new browser
  profile: nothing cached) and warm (the same page again in that profile), median and max of the
  runs, against the budget of 1 s for the catalogue's cards on the warm stack.

The last line is one JSON object with every figure. Exit status 1 when a budget is exceeded.
``--screenshots docs`` also writes the last run's warm catalogue and lesson pages to
docs/web-catalogue.png and docs/web-lesson.png, the README's pictures of the seeded stack.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import requests

from infra import web
from infra.config import stack_name

FIRST_PAGE_JS_BUDGET_BYTES = 100 * 1024
CATALOGUE_BUDGET_MS = 1000
SESSION_KEY = "eduplatform.refreshToken"  # web/src/api/session.ts REFRESH_TOKEN_KEY
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Seeded users: user{i}@example.com, i >= 10,000 are students (seed/generate.py).
SEEDED_STUDENTS = range(10_000, 10_200)
PASSWORD = "password123"


def first_page_assets(dist: Path) -> dict[str, list[Path]]:
    """The scripts and stylesheets index.html loads before the first page can render."""
    index = (dist / "index.html").read_text()
    scripts = re.findall(r'<script[^>]+src="/([^"]+\.js)"', index) + re.findall(
        r'<link[^>]+rel="modulepreload"[^>]+href="/([^"]+\.js)"', index
    )
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="/([^"]+\.css)"', index)
    return {
        "js": [dist / name for name in dict.fromkeys(scripts)],
        "css": [dist / name for name in dict.fromkeys(styles)],
    }


def sizes(paths: list[Path]) -> dict[str, int]:
    raw = sum(path.stat().st_size for path in paths)
    gzipped = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in paths)
    return {"files": len(paths), "bytes": raw, "gzip_bytes": gzipped}


def student_lesson(api_url: str) -> tuple[str, str]:
    """(refresh token, the lesson page's path) of a seeded student enrolled in a course with lessons."""
    session = requests.Session()
    for number in SEEDED_STUDENTS:
        login = session.post(
            f"{api_url}/login",
            json={"email": f"user{number}@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": f"10.9.{number % 250}.{number // 250 % 250 + 1}"},
            timeout=30,
        )
        if login.status_code != 200:
            continue
        tokens = login.json()
        enrollments = session.get(
            f"{api_url}/enrollments/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30
        )
        for enrollment in enrollments.json().get("items", []):
            curriculum = session.get(f"{api_url}/courses/{enrollment['course_id']}/curriculum", timeout=30).json()
            lessons = [lesson for module in curriculum.get("modules", []) for lesson in module.get("lessons", [])]
            if lessons:
                # The login's refresh token is used by the browser; this one is not refreshed here.
                return tokens["refresh_token"], f"/courses/{enrollment['course_id']}/lessons/{lessons[0]['id']}"
    raise SystemExit("no seeded student with a lesson to open: run `make seed` first")


def timed_navigation(page, url: str, ready) -> float:
    """Milliseconds from the start of the navigation until ``ready`` (a locator) is visible and enabled."""
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    ready.wait_for(state="visible", timeout=30_000)
    page.wait_for_function("element => !element.disabled", arg=ready.element_handle(), timeout=30_000)
    return (time.perf_counter() - started) * 1000


def login_again(api_url: str, refresh_token: str) -> str:
    """A fresh refresh token of the same session: each browser profile uses one (they rotate)."""
    response = requests.post(f"{api_url}/refresh", json={"refresh_token": refresh_token}, timeout=30)
    response.raise_for_status()
    return response.json()["refresh_token"]


def browser_timings(
    app_url: str, api_url: str, runs: int, screenshots: Path | None = None
) -> dict[str, dict[str, float]]:
    if CHROMIUM is None:
        raise SystemExit(
            "the benchmark needs chromium: `make test-tools` installs it as root (or `apt-get install chromium`)"
        )
    from playwright.sync_api import sync_playwright

    refresh_token, lesson_path = student_lesson(api_url)
    timings: dict[str, list[float]] = {"catalogue_cold": [], "catalogue_warm": [], "lesson_cold": [], "lesson_warm": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for run in range(runs):
            last = run == runs - 1
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            card = page.get_by_role("article").first.get_by_role("link").first
            timings["catalogue_cold"].append(timed_navigation(page, f"{app_url}/", card))
            timings["catalogue_warm"].append(timed_navigation(page, f"{app_url}/", card))
            if screenshots and last:
                page.screenshot(path=str(screenshots / "web-catalogue.png"))
            context.close()

            refresh_token = login_again(api_url, refresh_token)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            # Once per profile: the app rotates the token at its start, and an old one ends the session.
            key, value = json.dumps(SESSION_KEY), json.dumps(refresh_token)
            context.add_init_script(f"if (!localStorage.getItem({key})) localStorage.setItem({key}, {value})")
            page = context.new_page()
            complete = page.get_by_role("button", name=re.compile("Complete lesson|Completed"))
            timings["lesson_cold"].append(timed_navigation(page, f"{app_url}{lesson_path}", complete))
            timings["lesson_warm"].append(timed_navigation(page, f"{app_url}{lesson_path}", complete))
            if screenshots and last:
                page.screenshot(path=str(screenshots / "web-lesson.png"))
            refresh_token = page.evaluate(f"localStorage.getItem({json.dumps(SESSION_KEY)})") or refresh_token
            context.close()
        browser.close()
    return {
        name: {"median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1)}
        for name, values in timings.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The web app's first-page size and load times")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", default=os.environ.get("STACK") or stack_name("local"))
    parser.add_argument("--screenshots", type=Path, help="a folder for web-catalogue.png and web-lesson.png")
    args = parser.parse_args(argv)
    from infra.local.deploy import api_url, publish_web_app

    app_url = publish_web_app(args.stack)  # the current build, in the bucket
    assets = first_page_assets(web.DIST_DIR)
    report = {
        "first_page_js": sizes(assets["js"]),
        "first_page_css": sizes(assets["css"]),
        **browser_timings(app_url, api_url(args.stack), args.runs, args.screenshots),
        "runs": args.runs,
        "app_url": app_url,
    }
    js = report["first_page_js"]
    print(
        f"first page: JavaScript {js['bytes'] / 1024:.1f} kB ({js['gzip_bytes'] / 1024:.1f} kB gzipped, budget 100 kB)"
    )
    css = report["first_page_css"]
    print(f"            CSS {css['bytes'] / 1024:.1f} kB ({css['gzip_bytes'] / 1024:.1f} kB gzipped)")
    for name in ("catalogue_cold", "catalogue_warm", "lesson_cold", "lesson_warm"):
        figure = report[name]
        print(
            f"{name.replace('_', ' ')}: median {figure['median_ms']:.0f} ms, max {figure['max_ms']:.0f} ms ({args.runs} runs)"
        )
    within = (
        js["gzip_bytes"] <= FIRST_PAGE_JS_BUDGET_BYTES and report["catalogue_warm"]["median_ms"] <= CATALOGUE_BUDGET_MS
    )
    report["within_budgets"] = within
    print(json.dumps(report))
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
