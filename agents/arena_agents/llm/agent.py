"""An LLM as an arena agent, through pydantic-ai.

Each (puzzle, sample) is one pydantic-ai run: the prompt holds the rules and the board with coordinates, the
answer comes back as a validated :class:`GridAnswer` (a grid of the right shape, or an abstention; PPBench:
:class:`MovesAnswer`; ARC: :class:`GridsAnswer`, one grid per test input). Output
that fails validation is sent back to the model up to ``retries`` times; transport errors (rate limits, 5xx,
a server that is down) are retried ``attempts`` times with exponential backoff. Whatever still fails becomes
a failed candidate whose ``error`` says why — a run never crashes on one bad request; the harness store keeps
every finished candidate, and a rerun asks again only for the failed ones (``--no-retry-failed`` keeps them).

Two problems are the run's, not a candidate's, and stop it with one :class:`ConfigError` before anything of the
batch is stored: a hosted model whose provider has no API key (checked when the agent is built, so ``arena
eval`` fails before any work starts), and a provider that rejects the key (HTTP 401/403) on a request.

An abstention (``{"grid": [], "abstain": true}``, as the prompt allows) is an abstention: the schema admits an
empty grid, and an answer with ``abstain`` set is never sent back or counted as a failure.

Usage per candidate: input and output tokens, requests, seconds, and dollars when a price is known
(``price_in``/``price_out`` in the config, else genai-prices for models it knows).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai import ModelRetry, NativeOutput, PromptedOutput, RunContext, RunUsage, ToolOutput, UsageLimits
from pydantic_ai import exceptions as ai_exceptions
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError, UnexpectedModelBehavior, UserError
from pydantic_ai.models.test import TestModel

from arena_agents.llm.config import LLMAgentConfig
from arena_agents.llm.prompts import ANSWER_FIELDS, family_prompt, user_prompt
from arena_envs.answers import answer_from_fields, drop_on_abstention
from arena_envs.config import ConfigError
from arena_envs.protocol import Candidate, Cost, Puzzle

OFFLINE_HINT = "or use llm:test (pydantic-ai's offline test model, no key needed) to try the harness"

INSTRUCTIONS = (
    "You solve logic puzzles exactly. Read the rules and the board, reason carefully, and give the complete "
    "answer in the requested structure. If you cannot solve it, you may abstain."
)


class GridAnswer(BaseModel):
    """The structured answer: a full grid, or an abstention."""

    grid: list[list[int]] = Field(default_factory=list, description="the solved board, one list per row")
    abstain: bool = Field(default=False, description="true to give no answer")
    confidence: float | None = Field(default=None, ge=0, le=1, description="probability the grid is right")

    @model_validator(mode="before")
    @classmethod
    def _abstention_needs_no_grid(cls, data: Any) -> Any:
        return drop_on_abstention(data, "grid")


class GridsAnswer(BaseModel):
    """The structured answer for ARC: one output grid per test input, in order, or an abstention."""

    grids: list[list[list[int]]] = Field(default_factory=list, description="one output grid per test input")
    abstain: bool = Field(default=False, description="true to give no answer")
    confidence: float | None = Field(default=None, ge=0, le=1, description="probability every grid is right")

    @model_validator(mode="before")
    @classmethod
    def _abstention_needs_no_grids(cls, data: Any) -> Any:
        return drop_on_abstention(data, "grids")

    @model_validator(mode="after")
    def _rectangular(self) -> GridsAnswer:
        """Every grid's rows equally long (JSON schema cannot say it; the model is told and asked again)."""
        for i, grid in enumerate(self.grids, start=1):
            if len({len(row) for row in grid}) > 1:
                raise ValueError(f"grid {i}: every row of a grid must have the same length")
        return self


@lru_cache(maxsize=32)
def grids_model(n_tests: int) -> type[GridsAnswer]:
    """GridsAnswer whose JSON schema fixes the number of grids (one per test input) and the colours 0..9; each
    grid 1..30 rows of 1..30 cells (the output size is the model's to find). An empty list is the abstention."""
    cell = Literal[tuple(range(10))]  # type: ignore[valid-type]
    row = Annotated[list[cell], Field(min_length=1, max_length=30)]
    grid = Annotated[list[row], Field(min_length=1, max_length=30)]
    full = Annotated[list[grid], Field(min_length=n_tests, max_length=n_tests, description="one grid per test input")]
    empty = Annotated[list[grid], Field(max_length=0, description="no grids: only with abstain true")]
    return create_model(
        f"Grids{n_tests}Answer", __base__=GridsAnswer, grids=(full | empty, Field(default_factory=list))
    )


class MovesAnswer(BaseModel):
    """The structured answer for puzzles answered by moves (PPBench): move strings, or an abstention."""

    moves: list[str] = Field(default_factory=list, description="the moves, in order, e.g. 'mouse,left,3,5'")
    abstain: bool = Field(default=False, description="true to give no answer")
    confidence: float | None = Field(default=None, ge=0, le=1, description="probability the moves solve it")


@lru_cache(maxsize=32)
def answer_model(rows: int, cols: int, values: tuple[int, ...]) -> type[GridAnswer]:
    """GridAnswer whose JSON schema fixes the grid's shape and its digits.

    Servers that constrain decoding to the schema (llama.cpp's ``response_format``) then cannot emit a grid of
    the wrong shape; for the others pydantic validation sends the error back to the model.
    """
    # an enum rather than minimum/maximum: llama.cpp's schema-to-grammar honours enums but not integer bounds
    cell = Literal[values]  # type: ignore[valid-type]
    row = Annotated[list[cell], Field(min_length=cols, max_length=cols)]
    full = Annotated[list[row], Field(min_length=rows, max_length=rows, description="the solved board, row by row")]
    empty = Annotated[list[row], Field(max_length=0, description="no board: only with abstain true")]
    # the empty alternative is the prompt's abstention, {"grid": [], "abstain": true}: a schema that only allowed
    # a full board refused it (pydantic re-asked, then failed the candidate; a grammar could not even emit it)
    grid = full | empty
    return create_model(f"Grid{rows}x{cols}Answer", __base__=GridAnswer, grid=(grid, Field(default_factory=list)))


def _transient(exc: BaseException) -> bool:
    """Worth another try: rate limits, server errors, timeouts and connection failures."""
    if isinstance(exc, ModelHTTPError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, (ModelAPIError, TimeoutError, ConnectionError, OSError))


_AUTH_ERROR = getattr(ai_exceptions, "ModelAuthenticationError", None)  # newer pydantic-ai names the category


def _auth_rejected(exc: BaseException) -> bool:
    """The provider refused the credentials (HTTP 401, or 403: not allowed): every request would fail alike."""
    if _AUTH_ERROR is not None and isinstance(exc, _AUTH_ERROR):
        return True
    return isinstance(exc, ModelHTTPError) and exc.status_code in (401, 403)


class ProviderAuthError(ConfigError):
    """The provider rejected the API key: the run stops; nothing of the batch in flight is stored."""


def _key_env_vars(message: str) -> list[str]:
    """The environment variables a pydantic-ai "missing API key" message names (`OPENAI_API_KEY`, ...)."""
    return [name for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", message) if name.endswith(("_KEY", "_TOKEN"))]


# the usual key variable of common providers, for the message when a key is rejected (a missing key is found by
# pydantic-ai itself, whose message names the variable)
_KNOWN_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google-gla": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}


def _server_model(config: LLMAgentConfig, http_client: Any = None) -> Any:
    """The pydantic-ai model for an OpenAI-compatible server at ``config.base_url``; ``http_client`` replaces the
    transport (the stand-in server of :func:`request_messages`)."""
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.profiles.openai import OpenAIModelProfile
    from pydantic_ai.providers.openai import OpenAIProvider

    key = os.environ.get(config.api_key_env) or "not-needed"
    provider = OpenAIProvider(base_url=config.base_url, api_key=key, http_client=http_client)
    # llama.cpp's server rejects max_completion_tokens; max_tokens works on every compatible server
    profile = OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)
    return OpenAIChatModel(config.model, provider=provider, profile=profile)


class LLMAgent:
    name = "llm"

    def __init__(self, config: LLMAgentConfig, model: Any = None) -> None:
        """``model`` overrides the configured one (a pydantic-ai ``Model``, e.g. ``FunctionModel`` in tests)."""
        self.config = config
        self.kind = "tool-assisted" if config.strategy == "agentic" else "llm"
        self.model = model if model is not None else self._build_model()
        self.parameters: int | None = None

    def _build_model(self) -> Any:
        if self.config.base_url is None:
            return self._hosted_model()
        return _server_model(self.config)

    def _hosted_model(self) -> Any:
        """The pydantic-ai model for a model string, built now so that a missing API key (the provider reads it
        from its environment variable), an unknown model or a provider package that is not installed is one
        ConfigError before any request, instead of a failed candidate per puzzle. ``test`` needs no key."""
        from pydantic_ai.models import infer_model

        spec = f"llm:{self.config.model}"
        try:
            return infer_model(self.config.model)
        except ImportError as exc:
            raise ConfigError(f"{spec}: the provider's client is not installed ({exc})") from None
        except UserError as exc:
            message = str(exc)
            missing = [name for name in _key_env_vars(message) if not os.environ.get(name)]
            if missing:
                raise ConfigError(
                    f"{spec} needs an API key: set {' or '.join(missing)} in the environment (keys are never read "
                    f"from the command line), {OFFLINE_HINT}; nothing was evaluated"
                ) from None
            raise ConfigError(
                f"{spec}: {message.split(' To try Pydantic AI')[0]} (model strings look like openai:gpt-4o-mini; "
                f"a local server takes base_url=...), {OFFLINE_HINT}"
            ) from None

    @staticmethod
    def _answer_model(puzzle: Puzzle) -> type[GridAnswer] | type[MovesAnswer] | type[GridsAnswer]:
        if family_prompt(puzzle).answer_kind == "moves":
            return MovesAnswer
        if family_prompt(puzzle).answer_kind == "grids":
            return grids_model(int(puzzle.meta.get("n_tests", 1)))
        rows, cols = family_prompt(puzzle).answer_shape(puzzle)
        return answer_model(rows, cols, family_prompt(puzzle).values(puzzle))

    def _output_spec(self, puzzle: Puzzle) -> Any:
        model, mode = self._answer_model(puzzle), self.config.output_mode
        if mode == "prompted":
            return PromptedOutput(model)
        if mode == "native":
            return NativeOutput(model)
        return ToolOutput(model, name="final_answer")

    def _model_settings(self, puzzle: Puzzle) -> dict[str, Any]:
        c = self.config
        settings: dict[str, Any] = {"temperature": c.temperature, "max_tokens": c.max_tokens, "timeout": c.timeout_s}
        if c.base_url is not None and c.output_mode == "prompted":
            # llama.cpp constrains decoding to this schema; other servers ignore what they do not know
            schema = self._answer_model(puzzle).model_json_schema()
            settings["extra_body"] = {"response_format": {"type": "json_object", "schema": schema}}
        return settings

    def _model_for(self, puzzle: Puzzle) -> Any:
        """The model for one puzzle. ``llm:test`` (pydantic-ai's offline TestModel) would reply with what it
        generates from the schema, which never validates (it leaves the optional answer out); it replies with
        the family's example answer instead, well formed and built from the board alone, so the verifier judges
        a real answer (usually wrong, with its reason) and the whole pipeline runs offline on every family."""
        model = self.model
        if type(model) is not TestModel or model.custom_output_args is not None or model.custom_output_text:
            return model
        example = family_prompt(puzzle).example
        if example is None:
            return model
        answer = example(puzzle)
        if self.config.output_mode == "tool":
            return TestModel(call_tools=[], custom_output_args=answer)
        return TestModel(call_tools=[], custom_output_text=json.dumps(answer))

    def _pydantic_agent(self, puzzle: Puzzle) -> PydanticAgent[Puzzle, GridAnswer]:
        size = family_prompt(puzzle).answer_shape(puzzle)
        agent: PydanticAgent[Puzzle, GridAnswer] = PydanticAgent(
            self._model_for(puzzle),
            output_type=self._output_spec(puzzle),
            instructions=INSTRUCTIONS,
            deps_type=Puzzle,
            retries=self.config.retries,
            defer_model_check=True,
        )

        kind = family_prompt(puzzle).answer_kind
        moves = kind == "moves"
        wanted = {
            "moves": "`moves` (a list of move strings)",
            "grids": f"`grids` ({puzzle.meta.get('n_tests', 1)} grid(s), one per test input)",
        }.get(kind, f"`grid` ({size[0]} rows of {size[1]} digits)")

        @agent.output_validator
        def answered(answer: Any) -> Any:
            if not answer.abstain and not getattr(answer, ANSWER_FIELDS[kind]):
                raise ModelRetry(f"give {wanted}, or set `abstain` to true")
            return answer

        if self.config.strategy == "agentic" and kind == "grids":

            @agent.tool
            def check_rules(ctx: RunContext[Puzzle], grids: list[list[list[int]]]) -> str:
                """Whether a list of grids (one per test input) is a well-formed answer; never whether it is right."""
                return family_prompt(ctx.deps).rule_check(ctx.deps, grids)

        elif self.config.strategy == "agentic" and moves:

            @agent.tool
            def check_rules(ctx: RunContext[Puzzle], moves: list[str]) -> str:
                """Whether a list of moves solves the puzzle, and which rules the board then breaks."""
                return family_prompt(ctx.deps).rule_check(ctx.deps, moves)

        elif self.config.strategy == "agentic":

            @agent.tool
            def check_rules(ctx: RunContext[Puzzle], grid: list[list[int]]) -> str:
                """Which puzzle rules a full or partial grid breaks (use 0 for cells not filled yet)."""
                return family_prompt(ctx.deps).rule_check(ctx.deps, grid)

        return agent

    async def _one(self, puzzle: Puzzle, gate: asyncio.Semaphore) -> Candidate:
        c = self.config
        agent = self._pydantic_agent(puzzle)
        prompt = user_prompt(puzzle, tool=c.strategy == "agentic", confidence=c.confidence)
        limits = UsageLimits(request_limit=c.retries + 2 + (c.max_tool_calls if c.strategy == "agentic" else 0))
        usage = RunUsage()  # accumulates over attempts, so failed candidates keep what they spent
        busy = [0.0]  # seconds spent in requests (not queued behind the concurrency limit, not backing off)
        for attempt in range(1, c.attempts + 1):
            try:
                async with gate:
                    started = time.perf_counter()
                    try:
                        result = await agent.run(
                            prompt,
                            deps=puzzle,
                            model_settings=self._model_settings(puzzle),
                            usage_limits=limits,
                            usage=usage,
                        )
                    finally:
                        busy[0] += time.perf_counter() - started
                return self._candidate(result, usage, busy[0])
            except UnexpectedModelBehavior as exc:  # output never validated within the retries, or a refusal
                return self._failure(f"unusable output: {exc}", usage, busy[0])
            except Exception as exc:  # a bad request must never end the run (a rejected API key does)
                if _auth_rejected(exc):
                    raise self._auth_error(exc) from exc
                error = f"{type(exc).__name__}: {exc}"
                if not _transient(exc):
                    return self._failure(error, usage, busy[0])
                if attempt == c.attempts:
                    return self._failure(f"request failed after {c.attempts} attempt(s): {error}", usage, busy[0])
                await asyncio.sleep(c.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _auth_error(self, exc: BaseException) -> ProviderAuthError:
        c = self.config
        status = getattr(exc, "status_code", None)
        what = f"HTTP {status}" if status is not None else type(exc).__name__
        if c.base_url is not None:
            where, fix = f"the server at {c.base_url}", f"set {c.api_key_env} to a key it accepts"
        else:
            names = [n for n in _KNOWN_KEYS if c.model.startswith(n + ":")]
            key = _KNOWN_KEYS[names[0]] if names else "the provider's API key variable"
            where, fix = "the provider", f"check {key} (a valid key with access to the model)"
        detail = str(exc).replace("\n", " ")[:300]
        return ProviderAuthError(
            f"llm:{c.model}: {where} rejected the API key ({what}: {detail}); {fix}, {OFFLINE_HINT}; the run stopped "
            "and stored nothing of this batch"
        )

    def _usage_cost(self, usage: RunUsage, seconds: float, dollars: float | None = None) -> Cost:
        return Cost(
            tokens_in=usage.input_tokens,
            tokens_out=usage.output_tokens,
            requests=usage.requests,
            seconds=seconds,
            dollars=dollars,
        )

    def _failure(self, reason: str, usage: RunUsage, seconds: float) -> Candidate:
        c = self.config
        priced = c.price_in is not None and c.price_out is not None
        dollars = (usage.input_tokens * c.price_in + usage.output_tokens * c.price_out) / 1e6 if priced else None
        cost = self._usage_cost(usage, seconds, dollars)
        return Candidate(None, error=reason[:2000], cost=cost, extras={"strategy": c.strategy})

    def _candidate(self, result: Any, usage: RunUsage, seconds: float) -> Candidate:
        cost = self._usage_cost(usage, seconds, self._dollars(result, usage))
        answer: GridAnswer | MovesAnswer | GridsAnswer = result.output
        tool_calls = usage.tool_calls
        extras = {"tool_calls": tool_calls, "strategy": self.config.strategy}
        kind = "moves" if isinstance(answer, MovesAnswer) else "grids" if isinstance(answer, GridsAnswer) else "grid"
        # the validated fields become the verifier's answer by the same rule the RL reward functions use on text
        parsed = answer_from_fields(answer.model_dump(), kind)
        if parsed.abstained:
            return Candidate(None, cost=cost, extras=extras)
        q = answer.confidence if self.config.confidence else None
        return Candidate(parsed.answer, q=q, cost=cost, extras=extras)

    def _dollars(self, result: Any, usage: RunUsage) -> float | None:
        c = self.config
        if c.price_in is not None and c.price_out is not None:
            return (usage.input_tokens * c.price_in + usage.output_tokens * c.price_out) / 1e6
        total = 0.0
        try:
            for message in result.all_messages():
                if getattr(message, "kind", None) == "response":
                    total += float(message.cost().total_price)
        except (AssertionError, LookupError, ValueError, TypeError):
            return None  # genai-prices does not know this model (local servers never are)
        return total

    async def _act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        gate = asyncio.Semaphore(self.config.concurrency)
        jobs = [self._one(p, gate) for p in puzzles for _ in range(k)]
        flat = await asyncio.gather(*jobs)
        return [list(flat[i * k : (i + 1) * k]) for i in range(len(puzzles))]

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        for p in puzzles:
            family_prompt(p)  # an unsupported family fails before any request is sent
        return asyncio.run(self._act(puzzles, k))


STAND_IN_URL = "http://stand-in.invalid/v1"  # never contacted: request_messages answers in process


def request_messages(puzzles: Sequence[Puzzle], config: LLMAgentConfig | None = None) -> list[list[dict[str, str]]]:
    """Per puzzle, the chat messages of the agent's first request exactly as an OpenAI-compatible server receives
    them (``[{"role": "system" | "user", "content": ...}, ...]``): the data ``arena export`` and ``rl/grpo.py``
    train a model on, so that it is asked in training as ``llm:NAME,base_url=...`` asks it in evaluation.

    The messages are recorded, not rebuilt: the agent runs against a stand-in server (an in-process transport that
    replies with an abstention), so they hold whatever pydantic-ai adds in ``prompted`` mode (today a second
    system message with the answer's JSON schema) and cannot drift from what the agent sends. One request is
    recorded per answer schema, the only part of the system messages that varies; the other puzzles of that schema
    get their own prompt as the user message, after the recorded request is checked to end in exactly that.

    Args:
        puzzles: puzzles of any family the agents support.
        config: the agent whose requests to record (default: ``llm:model,base_url=...`` with its defaults). It must
            use ``output=prompted`` (the other modes send the schema outside the messages) and the ``direct``
            strategy (the agentic one adds a tool, which chat messages cannot carry).
    """
    try:  # the HTTP client of the openai package: httpx2 since openai 3, httpx before
        import httpx2 as httpx
    except ImportError:  # pragma: no cover - older openai
        import httpx  # type: ignore[no-redef]

    config = config or LLMAgentConfig(model="model", base_url=STAND_IN_URL)
    if config.output_mode != "prompted" or config.strategy != "direct":
        raise ConfigError(
            f"request messages are recorded for output=prompted and strategy=direct only, got "
            f"output={config.output_mode} strategy={config.strategy} (other modes send part of the request outside "
            "the messages)"
        )
    config = dataclasses.replace(config, base_url=STAND_IN_URL, attempts=1, retries=0, concurrency=32)
    # Only the answer's schema varies the system messages, so one request per schema is recorded and the others
    # take their puzzle's prompt as the user message: 13 ms a puzzle would be hours for a large training split.
    groups: dict[type, list[int]] = {}
    for i, puzzle in enumerate(puzzles):
        groups.setdefault(LLMAgent._answer_model(puzzle), []).append(i)
    firsts = [indices[0] for indices in groups.values()]
    recorded = _record_requests([puzzles[i] for i in firsts], config, httpx)
    prompts = [{"role": "user", "content": user_prompt(p, tool=False, confidence=config.confidence)} for p in puzzles]
    if any(messages[-1] != prompts[i] for i, messages in zip(firsts, recorded)):
        return _record_requests(puzzles, config, httpx)  # a request is no longer head + prompt: record every one
    out: list[list[dict[str, str]]] = [[] for _ in puzzles]
    for indices, messages in zip(groups.values(), recorded):
        for i in indices:
            out[i] = [*messages[:-1], prompts[i]]
    return out


def _record_requests(puzzles: Sequence[Puzzle], config: LLMAgentConfig, httpx: Any) -> list[list[dict[str, str]]]:
    """Run the agent on ``puzzles`` against the stand-in server; the messages of each first request, in order."""
    sent: dict[str, list[dict[str, str]]] = {}  # keyed by the user message: a puzzle's prompt names its board

    def stand_in(request: Any) -> Any:
        messages = [{"role": m["role"], "content": m["content"]} for m in json.loads(request.content)["messages"]]
        sent[messages[-1]["content"]] = messages
        reply = {"role": "assistant", "content": '{"abstain": true}'}
        return httpx.Response(
            200,
            json={
                "id": "stand-in",
                "object": "chat.completion",
                "created": 0,
                "model": config.model,
                "choices": [{"index": 0, "finish_reason": "stop", "message": reply}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            },
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(stand_in))
    recorder = LLMAgent(config, model=_server_model(config, http_client=client))
    for candidates in recorder.act(puzzles, 1):
        if candidates[0].error is not None:  # a change in pydantic-ai, not the user's doing
            raise RuntimeError(f"recording the agent's request failed: {candidates[0].error}")
    return [sent[user_prompt(p, tool=False, confidence=config.confidence)] for p in puzzles]
