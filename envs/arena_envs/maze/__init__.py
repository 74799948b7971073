"""Maze-Hard: find a shortest 4-connected path from S to G on a grid with random walls."""
