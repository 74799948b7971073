"""Sudoku-Extreme: loader, generator, rule-based verifier, envs, renderer and tokens."""
