"""Puzzle Arena harness: run agents, store every candidate durably, compute exact metrics."""

from arena_harness.runner import RunOptions, RunResult, Shard, evaluate
from arena_harness.store import ResultStore
from arena_harness.summary import Summary

__all__ = ["ResultStore", "RunOptions", "RunResult", "Shard", "Summary", "evaluate"]
