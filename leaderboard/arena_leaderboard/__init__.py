"""Puzzle Arena leaderboard: re-verified submissions and a static site (see issue 8; not built yet)."""
