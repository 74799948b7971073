"""Puzzle Arena agents: baselines now; recursive models and LLM agents behind extras."""

from arena_agents.registry import AGENTS, DEFAULT_AGENTS, make_agent, parse_spec

__all__ = ["AGENTS", "DEFAULT_AGENTS", "make_agent", "parse_spec"]
