"""README.md and docs/ stand alone: they cite nothing a reader of the repository does not have.

No mention of the project's internal specification or its section signs, and every file they point
to (a Markdown link, or a path such as `src/adapters/sql/uow.py` or `bench/persistence.py`) exists
inside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FORBIDDEN = {
    "the internal specification": re.compile(r"\bSPEC\b|(?i:spec\.md|\bthe specification\b)"),
    "the style guide file": re.compile(r"STYLE\.md"),
    "a shared folder outside the repository": re.compile(r"shared folder|\bshared/", re.IGNORECASE),
    "a section sign": re.compile("§"),
}
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(?P<ref>\S+)", re.M)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
EXTENSIONS = (".py", ".md", ".toml", ".sh", ".lock", ".json", ".yml", ".yaml", ".ini", ".txt", ".mako")


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def inside_repo(path: Path) -> bool:
    resolved = path.resolve()
    return resolved == ROOT or ROOT in resolved.parents


def link_targets(text: str) -> list[str]:
    targets = []
    for found in LINK.finditer(text):
        target = (found["target"] or found["ref"]).split("#", 1)[0]
        if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # not http:, mailto: ...
            targets.append(target)
    return targets


def path_mentions(text: str) -> list[str]:
    """Code spans and words in code blocks that name a file or folder of the repository."""
    words = CODE_SPAN.findall(FENCE.sub("", text))
    for block in FENCE.findall(text):
        words += block.split()
    mentions = []
    for word in words:
        word = word.strip("'\"(),;")
        if "/" not in word or re.search(r"[:<>{}*=$\[\]@]|\.\.\.|^/|^~", word) or " " in word:
            continue  # an absolute path, a URL, a template, an API route, prose
        if word.endswith("/") or word.endswith(EXTENSIONS) or word.startswith("../"):
            mentions.append(word)
    return mentions


def resolves(page: Path, target: str, *, link: bool = False) -> bool:
    # A link is followed from the page's folder; prose may name a path from the repository's
    # root or, for the packages, from src/ (`adapters/sql/uow.py`).
    candidates = [page.parent / target]
    if not link:
        candidates += [ROOT / target, ROOT / "src" / target]
    return any(inside_repo(c) and c.exists() for c in candidates)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_cites_nothing_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    found = [
        f"{what}: line {text.count(chr(10), 0, hit.start()) + 1}: {hit.group(0)!r}"
        for what, pattern in FORBIDDEN.items()
        for hit in pattern.finditer(text)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_links_point_to_files_in_the_repository(page: Path) -> None:
    broken = [target for target in link_targets(page.read_text()) if not resolves(page, target, link=True)]
    assert not broken, f"links to files that are not in the repository: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_paths_it_names_exist(page: Path) -> None:
    missing = [path for path in path_mentions(page.read_text()) if not resolves(page, path)]
    assert not missing, f"names paths that are not in the repository: {missing}"


def test_the_checks_see_links_and_paths() -> None:
    # Guards the checks above against matching nothing.
    sample = "See [the guide](docs/x.md) and [web](https://a.b/c).\n`src/chatcore/quota.py`, `/v1/models`\n"
    assert link_targets(sample) == ["docs/x.md"]
    assert path_mentions(sample + "```\nuv run python bench/persistence.py ../shared/run.sh .\n```\n") == [
        "src/chatcore/quota.py",
        "bench/persistence.py",
        "../shared/run.sh",
    ]
    assert not resolves(ROOT / "README.md", "../shared/SPEC.md")
    assert resolves(ROOT / "docs" / "deployment.md", "configuration.md", link=True)
    assert not resolves(ROOT / "docs" / "deployment.md", "docs/configuration.md", link=True)
