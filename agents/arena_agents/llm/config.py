"""The LLM agent's config, importable without pydantic-ai (the registry lists it on every install)."""

from __future__ import annotations

from dataclasses import dataclass

from arena_envs.config import ConfigError

STRATEGIES = ("direct", "agentic")
OUTPUT_MODES = ("tool", "prompted", "native")


@dataclass(frozen=True)
class LLMAgentConfig:
    """``llm:MODEL[,key=value...]``.

    ``model`` is any pydantic-ai model string (``openai:gpt-4o``, ``anthropic:claude-...``; keys come from the
    provider's usual environment variable) or, with ``base_url``, the model name a local OpenAI-compatible
    server (llama.cpp, vLLM, Ollama) serves. ``strategy``: ``direct`` (one structured answer) or ``agentic``
    (may call a rule-check tool first; labelled tool-assisted). ``output``: how the grid comes back —
    ``tool`` (a tool call, the default for hosted models), ``prompted`` (JSON in text, with the schema also
    sent as ``response_format``; for servers without reliable tool calling, the default with ``base_url``)
    or ``native`` (the provider's structured output).
    """

    model: str = ""
    strategy: str = "direct"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"  # read only with base_url; a local server accepts any key
    output: str | None = None  # None = "prompted" with base_url, else "tool"
    temperature: float = 0.7
    max_tokens: int = 2048
    retries: int = 2  # re-asks after output that fails validation (wrong grid shape, bad JSON)
    attempts: int = 3  # tries per candidate on transport errors (rate limit, 5xx, connection), with backoff
    backoff_s: float = 1.0
    timeout_s: float = 120.0  # per request
    concurrency: int = 4  # requests in flight
    confidence: bool = False  # ask for a confidence and use it as q
    max_tool_calls: int = 8  # agentic only
    price_in: float | None = None  # dollars per million input tokens; None = genai-prices where it knows the model
    price_out: float | None = None

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError(
                "llm agents need a model: llm:openai:gpt-4o, or llm:NAME,base_url=http://127.0.0.1:8000/v1"
            )
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.output is not None and self.output not in OUTPUT_MODES:
            raise ConfigError(f"output must be one of {OUTPUT_MODES}, got {self.output!r}")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if min(self.attempts, self.concurrency) < 1 or self.retries < 0 or self.timeout_s <= 0:
            raise ConfigError("attempts and concurrency must be >= 1, retries >= 0, timeout_s > 0")

    @property
    def output_mode(self) -> str:
        return self.output or ("prompted" if self.base_url else "tool")
