"""``RUN/log.jsonl``: one JSON object per logged step or evaluation, flushed as written."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class RunLog:
    """Appends entries to ``log.jsonl`` (on the main process only); trimmed back to a checkpoint on resume."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path, self.enabled = path, enabled
        self.entries: list[dict[str, Any]] = []

    def resume_at(self, step: int) -> None:
        """Keep the entries up to ``step`` (what the checkpoint saw); later ones are written again."""
        if not self.enabled or not self.path.is_file():
            return
        kept = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        kept = [e for e in kept if e.get("step", 0) <= step]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(e) + "\n" for e in kept))
        os.replace(tmp, self.path)
        self.entries = kept

    def write(self, entry: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.entries.append(entry)
        with self.path.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
