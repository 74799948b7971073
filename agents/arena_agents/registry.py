"""Agent specs on the command line: ``NAME[:OPTIONS]``.

``OPTIONS`` is ``key=value`` pairs separated by commas (``budgeted:max_nodes=32,seed=1``); a single
value without a key sets the agent's first option (``budgeted:32``). Unknown agents or options fail
with a message that lists what exists. Every recursive model family (``arena_agents.recursive.families``) is an
agent too: ``trm:PATH`` and ``hrm:PATH`` load checkpoints written by ``arena train``, ``ptrm:PATH`` a TRM's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arena_agents.baselines import (
    BudgetedConfig,
    BudgetedSolverAgent,
    CopyInputAgent,
    CopyInputConfig,
    GreedyAgent,
    GreedyConfig,
    OracleAgent,
    OracleConfig,
    ProgramSearchAgent,
    ProgramSearchConfig,
    RandomAgent,
    RandomConfig,
)
from arena_agents.llm.config import LLMAgentConfig
from arena_agents.recursive.families import FAMILIES, ModelFamily, load_object
from arena_agents.rl.sb3_config import SB3AgentConfig
from arena_envs.config import ConfigError, build_config, parse_value
from arena_envs.protocol import Agent


@dataclass(frozen=True)
class AgentEntry:
    name: str
    kind: str  # "baseline" | "recursive" | "llm" | "tool-assisted"
    config_cls: type
    factory: Callable[[Any], Agent]
    description: str


AGENTS: dict[str, AgentEntry] = {}


def register_agent(entry: AgentEntry) -> None:
    AGENTS[entry.name] = entry


for _entry in (
    AgentEntry("oracle", "baseline", OracleConfig, OracleAgent, "exact solver; must score 100%"),
    AgentEntry(
        "budgeted",
        "baseline",
        BudgetedConfig,
        BudgetedSolverAgent,
        "exact solver with a node budget; abstains when the budget runs out",
    ),
    AgentEntry("random", "baseline", RandomConfig, RandomAgent, "fills blanks uniformly at random"),
    AgentEntry("copy", "baseline", CopyInputConfig, CopyInputAgent, "returns the input grid unchanged"),
    AgentEntry(
        "greedy",
        "baseline",
        GreedyConfig,
        GreedyAgent,
        "no search: Maze walks towards G, Sudoku fills naked singles; abstains when stuck",
    ),
    AgentEntry(
        "programs",
        "baseline",
        ProgramSearchConfig,
        ProgramSearchAgent,
        "ARC: the first of a few grid transformations (+ colour map) fitting every demonstration; else abstains",
    ),
):
    register_agent(_entry)


def _recursive_factory(family: ModelFamily) -> Callable[[Any], Agent]:
    def make(config: Any) -> Agent:
        try:
            agent_class = load_object(family.agent)
        except ImportError as exc:  # torch is an optional extra
            raise ConfigError(
                f"the {family.name} agent needs torch and safetensors: pip install 'puzzle-arena[models]' ({exc})"
            ) from None
        return agent_class(config, family.name)

    return make


for _family in FAMILIES.values():
    register_agent(
        AgentEntry(_family.name, "recursive", _family.agent_config, _recursive_factory(_family), _family.description)
    )


def _llm_factory(config: LLMAgentConfig) -> Agent:
    try:
        from arena_agents.llm.agent import LLMAgent
    except ImportError as exc:  # pydantic-ai is an optional extra
        raise ConfigError(f"the llm agent needs pydantic-ai: pip install 'puzzle-arena[llm]' ({exc})") from None
    return LLMAgent(config)


register_agent(
    AgentEntry(
        "llm",
        "llm",
        LLMAgentConfig,
        _llm_factory,
        "a language model via pydantic-ai: llm:openai:gpt-4o or llm:NAME,base_url=http://127.0.0.1:8000/v1",
    )
)


def _sb3_factory(config: Any) -> Agent:
    try:
        from arena_agents.rl.sb3_agent import SB3Agent
    except ImportError as exc:  # stable-baselines3 / sb3-contrib are an optional extra
        raise ConfigError(f"the sb3 agent needs the rl extra: pip install 'puzzle-arena[rl]' ({exc})") from None
    return SB3Agent(config)


register_agent(
    AgentEntry(
        "sb3",
        "rl",
        SB3AgentConfig,
        _sb3_factory,
        "a policy trained by `arena rl` (MaskablePPO) rolling out the step env: sb3:runs/rl/RUN/model.zip",
    )
)

DEFAULT_AGENTS = ("oracle", "budgeted:max_nodes=8", "random", "copy")


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in AGENTS:
        raise ConfigError(f"unknown agent {name!r}; available: {', '.join(sorted(AGENTS))}")
    options: dict[str, Any] = {}
    if not rest:
        return name, options
    fields = [f.name for f in dataclasses.fields(AGENTS[name].config_cls)]
    for i, part in enumerate(p for p in rest.split(",") if p.strip()):
        key, eq, value = part.partition("=")
        if not eq:
            if i != 0 or not fields:
                raise ConfigError(f"agent spec {spec!r}: write options as key=value (known: {fields})")
            key, value = fields[0], part
        options[key.strip()] = parse_value(value.strip())
    return name, options


def make_agent(spec: str) -> Agent:
    """Build an agent from ``NAME[:OPTIONS]``."""
    name, options = parse_spec(spec)
    entry = AGENTS[name]
    return entry.factory(build_config(entry.config_cls, options, what=f"agent {name!r}"))


def agent_kind(agent: Agent) -> str:
    """recursive / llm / tool-assisted / baseline; an agent may say it itself (an agentic LLM is tool-assisted)."""
    own = getattr(agent, "kind", None)
    if isinstance(own, str):
        return own
    entry = AGENTS.get(agent.name)
    return entry.kind if entry else "custom"
