"""The repository explains itself: its Markdown links resolve inside it, the README is a front door,
the performance figures open with a table of what is true now, and no file tells the story of the
work (an issue number, a numbered session) or points at design notes a clone does not have."""

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from infra.config import ROOT


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


MARKDOWN = [path for path in tracked_files() if path.suffix == ".md"]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
LOCAL_ADDRESS = re.compile(r"^https?://(localhost|127\.0\.0\.1)(:\d+)?(/|$)")


def anchors(markdown: str) -> set[str]:
    """The ids GitHub gives a document's headings: lower case, punctuation dropped, spaces to hyphens."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", CODE.sub("", markdown), re.M):
        text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
        slug = "".join(c for c in text if c in "- " or unicodedata.category(c)[0] in "LN").replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(markdown: str) -> list[str]:
    return LINK.findall(CODE.sub("", markdown))


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(document):
    broken = []
    for target in links(document.read_text()):
        if LOCAL_ADDRESS.match(target):
            continue  # a page of the running stack (Prometheus, Grafana, the API)
        if re.match(r"^[a-z]+:", target):
            broken.append(f"{target}: leaves the repository")
            continue
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.is_relative_to(ROOT) or not linked.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_link_checker_finds_a_missing_file_and_a_missing_heading(tmp_path):
    assert anchors("# Run locally (no Docker)\n## Run locally (no Docker)\n") == {
        "run-locally-no-docker",
        "run-locally-no-docker-1",
    }
    assert links("[a](docs/x.md#y) `[b](no.md)` ![c](p.png)") == ["docs/x.md#y", "p.png"]


def test_the_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text()
    lines = readme.splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines: detail belongs in docs/"
    first_screen = "\n".join(lines[:45])
    assert "make up" in first_screen and "make test" in first_screen
    assert "docs/api.md" in readme and "docs/architecture.md" in readme


def test_performance_opens_with_the_current_figures():
    performance = (ROOT / "docs" / "performance.md").read_text().splitlines()
    assert len(performance) <= 320, f"docs/performance.md has {len(performance)} lines: a reference, not a log"
    first_table = next(number for number, line in enumerate(performance) if line.startswith("|"))
    second_heading = [number for number, line in enumerate(performance) if line.startswith("## ")][:1]
    assert not second_heading or first_table < second_heading[0] + 4, "the figures table comes first"


# Built from parts so that this file does not match itself.
HISTORY = re.compile(
    r"\bissues?\s*#?\s*\d+\b"
    r"|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth"
    r"|fourteenth|fifteenth|\d+(?:st|nd|rd|th))\s+" + "session" + r"s?\b"
    r"|\b" + "session" + r"\s+\d+\b"
    r"|\bthis\s+" + "VM" + r"\b",
    re.I,
)
OUTSIDE = re.compile(r"\.\./" + "shared" + r"|(?<![\w/])(?:" + "API" + r"|" + "ARCHITECTURE" + r")\.md\b")


def test_no_file_tells_the_history_of_the_work_or_points_outside_the_repository():
    found = []
    for path in tracked_files():
        if path == Path(__file__).resolve():
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if HISTORY.search(line) or OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


def test_the_history_check_catches_what_it_is_for():
    assert HISTORY.search("as measured in the " + "thirteenth session")
    assert HISTORY.search("fixed for " + "issue 14")
    assert HISTORY.search("on " + "this VM")
    assert not HISTORY.search("a login session ends at logout; sessions survive a reload")
    assert OUTSIDE.search("see ../" + "shared/spec/" + "API.md")
    assert not OUTSIDE.search("see docs/api.md and docs/architecture.md")


def test_one_openapi_document_is_committed():
    documents = [path.relative_to(ROOT) for path in tracked_files() if path.name == "openapi.json"]
    assert documents == [Path("docs/openapi.json")]
