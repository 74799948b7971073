"""Every command the README and the docs show runs as written.

Each page's ``bash`` and ``python`` blocks are extracted in order and run as one script in a fresh folder (with
the project's ``checkpoints/`` and ``tests/`` linked in and the venv at ``.venv``), so state carries from one
command to the next as it does for a reader following the page. A command that cannot run here says why on the
line above it:

* ``# needs: internet`` (a download from a hub), ``api-key`` (a paid provider), ``gpu``, ``install`` (changes
  the venv): listed, not run;
* ``# tested: tests/FILE.py::test_name``: too long for this suite as written, or needing a server; that test
  runs it (shortened), and it must exist in a file that reads this page, so the link cannot silently break.

The README's two opening commands (a fresh venv) are what ``.ci/run`` itself runs; ``test_readme.py`` checks them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
NEEDS = ("internet", "api-key", "gpu", "install")
MARKER = re.compile(r"^#\s*(needs|tested):\s*(\S+)\s*$")
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Snippet:
    language: str  # "bash" (one command) or "python" (a whole block)
    text: str
    marker: tuple[str, str] | None  # ("needs", "gpu") or ("tested", "tests/x.py::test_y")


def snippets(page: Path) -> list[Snippet]:
    """The page's commands and python blocks in reading order, each with the marker comment above it."""
    out: list[Snippet] = []
    for language, body in BLOCK.findall(page.read_text()):
        if language == "python":
            first = body.splitlines()[0] if body.strip() else ""
            match = MARKER.match(first.strip())
            out.append(Snippet("python", body, (match.group(1), match.group(2)) if match else None))
            continue
        marker = None
        for line in body.replace("\\\n", " ").splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            match = MARKER.match(stripped)
            if match:
                marker = (match.group(1), match.group(2))
            elif not stripped.startswith("#"):
                out.append(Snippet("bash", stripped, marker))
                marker = None
    return out


def is_setup(snippet: Snippet) -> bool:
    return snippet.language == "bash" and snippet.text.startswith("python3 -m venv .venv")


def runnable(page: Path) -> list[Snippet]:
    return [s for s in snippets(page) if s.marker is None and not is_setup(s)]


def rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def script(page: Path) -> str:
    lines = ["set -euo pipefail"]
    for i, s in enumerate(runnable(page)):
        shown = s.text if s.language == "bash" else f"python block {i}"
        lines.append(f"printf '%s\\n' {_quote('+ ' + shown)} >&2")
        if s.language == "bash":
            lines.append(s.text)
        else:
            lines.append(f"python - <<'ARENA_DOC_PYTHON_{i}'\n{s.text}ARENA_DOC_PYTHON_{i}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_every_marker_is_known_and_every_tested_link_holds():
    for page in PAGES:
        for s in snippets(page):
            if s.marker is None:
                continue
            kind, value = s.marker
            if kind == "needs":
                assert value in NEEDS, f"{rel(page)}: '# needs: {value}' is not one of {NEEDS} ({s.text[:60]})"
                continue
            path, _, name = value.partition("::")
            test_file = ROOT / path
            assert test_file.is_file(), f"{rel(page)}: '# tested: {value}': no file {path}"
            source = test_file.read_text()
            body = re.search(rf"^def {re.escape(name)}\(.*?(?=^def |\Z)", source, re.S | re.M)
            assert body is not None, f"{rel(page)}: '# tested: {value}': no test {name} in {path}"
            assert rel(page) in source, f"{path} must read {rel(page)} to test its commands"


def test_the_pages_have_commands_to_run():
    counts = {rel(p): len(runnable(p)) for p in PAGES}
    assert counts["README.md"] >= 10  # the tour
    assert sum(counts.values()) >= 40


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=rel)
def test_the_commands_of_a_page_run_in_order(page: Path, tmp_path: Path):
    venv = Path(sys.prefix)
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    for name in ("checkpoints", "tests"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "ARENA_"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    result = subprocess.run(
        ["bash", "-c", script(page)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500
    )
    ran = [line for line in result.stderr.splitlines() if line.startswith("+ ")]
    assert result.returncode == 0, (
        f"{rel(page)}: `{ran[-1][2:] if ran else '?'}` failed (exit {result.returncode})\n"
        f"--- stdout (end)\n{result.stdout[-3000:]}\n--- stderr (end)\n{result.stderr[-3000:]}"
    )
    assert len(ran) == len(runnable(page))
