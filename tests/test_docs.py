"""The documentation site builds strictly, lists every page, and its links and claims hold."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def _nav_pages() -> set[str]:
    text = (ROOT / "mkdocs.yml").read_text()
    return set(re.findall(r":\s+([\w/.-]+\.md)\s*$", text, re.M))


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert pages == _nav_pages()


def test_the_site_builds_strictly(tmp_path):
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mkdocs is in the dev extra: pip install -e '.[dev]'")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "training" / "index.html").exists()


def test_the_readmes_links_point_at_files_that_exist():
    for target, _ in LINK.findall((ROOT / "README.md").read_text()):
        if target.startswith(("http://", "https://")):
            continue
        assert (ROOT / target).exists(), target


def test_every_preset_is_documented_and_every_documented_preset_exists():
    from arena_agents.recursive.presets import PRESETS

    page = (DOCS / "training.md").read_text()
    rows = set(re.findall(r"^\| `([\w-]+)` \|", page, re.M))
    assert rows == set(PRESETS)


def test_the_readme_claims_only_what_exists():
    """Families the README presents as working are registered; the ones that do not exist yet say so."""
    from arena_agents.recursive.families import FAMILIES

    readme = (ROOT / "README.md").read_text()
    intro = readme[: readme.index("## A five-minute tour")]
    for name in re.findall(r"\b(TRM|HRM|PTRM|LDT|GRAM)\b", intro):
        assert name.lower() in FAMILIES, f"the README's introduction names {name}, which is not a registered family"
    home = (DOCS / "index.md").read_text().split("\n\n")[1]  # the site's opening paragraph
    for name in re.findall(r"\b(TRM|HRM|PTRM|LDT|GRAM)\b", home):
        assert name.lower() in FAMILIES or f"{name} is not built yet" in home, name
    status = readme[readme.index("## What exists") :]
    row = next(line for line in status.splitlines() if line.startswith("| RL"))
    from arena_agents.registry import AGENTS
    from arena_harness.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # the RL row names a command and an agent
    assert "`arena rl`" in row and "rl" in commands and "`sb3:PATH`" in row and AGENTS["sb3"].kind == "rl"
    for name in ("TRM", "HRM", "PTRM", "GRAM", "LDT"):  # every family the status table names is registered
        assert any(line.startswith(f"| {name}") or f", {name}" in line for line in status.splitlines()), name
