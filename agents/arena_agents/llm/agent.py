"""An LLM as an arena agent, through pydantic-ai.

Each (puzzle, sample) is one pydantic-ai run: the prompt holds the rules and the board with coordinates, the
answer comes back as a validated :class:`GridAnswer` (a grid of the right shape, or an abstention). Output
that fails validation is sent back to the model up to ``retries`` times; transport errors (rate limits, 5xx,
a server that is down) are retried ``attempts`` times with exponential backoff. Whatever still fails becomes
a failed candidate whose ``error`` says why — a run never crashes on one bad request, and the harness store
keeps every finished candidate, so a rerun sends no request twice.

Usage per candidate: input and output tokens, requests, seconds, and dollars when a price is known
(``price_in``/``price_out`` in the config, else genai-prices for models it knows).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, Field, create_model
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai import ModelRetry, NativeOutput, PromptedOutput, RunContext, RunUsage, ToolOutput, UsageLimits
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError, UnexpectedModelBehavior

from arena_agents.llm.config import LLMAgentConfig
from arena_agents.llm.prompts import family_prompt, user_prompt
from arena_envs.protocol import Candidate, Cost, Puzzle

INSTRUCTIONS = (
    "You solve logic puzzles exactly. Read the rules and the board, reason carefully, and give the complete "
    "answer in the requested structure. If you cannot solve it, you may abstain."
)


class GridAnswer(BaseModel):
    """The structured answer: a full grid, or an abstention."""

    grid: list[list[int]] = Field(default_factory=list, description="the solved board, one list per row")
    abstain: bool = Field(default=False, description="true to give no answer")
    confidence: float | None = Field(default=None, ge=0, le=1, description="probability the grid is right")


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
    grid = Annotated[list[row], Field(min_length=rows, max_length=rows, description="the solved board, row by row")]
    return create_model(f"Grid{rows}x{cols}Answer", __base__=GridAnswer, grid=(grid, Field(default_factory=list)))


def _transient(exc: BaseException) -> bool:
    """Worth another try: rate limits, server errors, timeouts and connection failures."""
    if isinstance(exc, ModelHTTPError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, (ModelAPIError, TimeoutError, ConnectionError, OSError))


class LLMAgent:
    name = "llm"

    def __init__(self, config: LLMAgentConfig, model: Any = None) -> None:
        """``model`` overrides the configured one (a pydantic-ai ``Model``, e.g. ``FunctionModel`` in tests)."""
        self.config = config
        self.kind = "tool-assisted" if config.strategy == "agentic" else "llm"
        self.model = model if model is not None else self._build_model()
        self.parameters: int | None = None

    def _build_model(self) -> Any:
        c = self.config
        if c.base_url is None:
            return c.model  # a pydantic-ai model string; the provider reads its key from the environment
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.profiles.openai import OpenAIModelProfile
        from pydantic_ai.providers.openai import OpenAIProvider

        provider = OpenAIProvider(base_url=c.base_url, api_key=os.environ.get(c.api_key_env) or "not-needed")
        # llama.cpp's server rejects max_completion_tokens; max_tokens works on every compatible server
        profile = OpenAIModelProfile(openai_chat_supports_max_completion_tokens=False)
        return OpenAIChatModel(c.model, provider=provider, profile=profile)

    @staticmethod
    def _answer_model(puzzle: Puzzle) -> type[GridAnswer] | type[MovesAnswer]:
        if family_prompt(puzzle).answer_kind == "moves":
            return MovesAnswer
        rows, cols = puzzle.grid.shape
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

    def _pydantic_agent(self, puzzle: Puzzle) -> PydanticAgent[Puzzle, GridAnswer]:
        size = puzzle.grid.shape
        agent: PydanticAgent[Puzzle, GridAnswer] = PydanticAgent(
            self.model,
            output_type=self._output_spec(puzzle),
            instructions=INSTRUCTIONS,
            deps_type=Puzzle,
            retries=self.config.retries,
            defer_model_check=True,
        )

        moves = family_prompt(puzzle).answer_kind == "moves"

        @agent.output_validator
        def answered(answer: Any) -> Any:
            if not answer.abstain and not (answer.moves if moves else answer.grid):
                wanted = "`moves` (a list of move strings)" if moves else f"`grid` ({size[0]} rows of {size[1]} digits)"
                raise ModelRetry(f"give {wanted}, or set `abstain` to true")
            return answer

        if self.config.strategy == "agentic" and moves:

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
            except Exception as exc:  # a bad request must never end the run
                error = f"{type(exc).__name__}: {exc}"
                if not _transient(exc):
                    return self._failure(error, usage, busy[0])
                if attempt == c.attempts:
                    return self._failure(f"request failed after {c.attempts} attempt(s): {error}", usage, busy[0])
                await asyncio.sleep(c.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable: the loop returns on its last attempt")

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
        answer: GridAnswer | MovesAnswer = result.output
        tool_calls = usage.tool_calls
        extras = {"tool_calls": tool_calls, "strategy": self.config.strategy}
        if answer.abstain:
            return Candidate(None, cost=cost, extras=extras)
        q = answer.confidence if self.config.confidence else None
        if isinstance(answer, MovesAnswer):
            return Candidate(list(answer.moves), q=q, cost=cost, extras=extras)
        grid = np.asarray(answer.grid, dtype=np.int64)
        return Candidate(grid, q=q, cost=cost, extras=extras)

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
