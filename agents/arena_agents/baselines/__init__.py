from arena_agents.baselines.agents import (
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

__all__ = [
    "BudgetedConfig",
    "BudgetedSolverAgent",
    "CopyInputAgent",
    "CopyInputConfig",
    "GreedyAgent",
    "GreedyConfig",
    "OracleAgent",
    "OracleConfig",
    "ProgramSearchAgent",
    "ProgramSearchConfig",
    "RandomAgent",
    "RandomConfig",
]
