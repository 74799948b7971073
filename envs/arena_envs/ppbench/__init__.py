"""Pencil Puzzle Bench: 300 golden puzzles of 20 pencil-puzzle varieties, checked by pzpr.js in Node."""
