"""The README opens with the two commands, and the custom-agent example of docs/getting-started.md runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page, flags=re.S)


def test_readme_opens_with_exactly_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first_block is not None and README.index(first_block.group(0)) < README.index("\n## ")
    commands = [line for line in first_block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("arena eval") and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command"


def test_custom_agent_example_runs(tmp_path):
    example = next(b for b in python_blocks((ROOT / "docs/getting-started.md").read_text()) if "class FillOnes" in b)
    result = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0.0"
    assert (tmp_path / "runs" / "mine.sqlite").exists()
