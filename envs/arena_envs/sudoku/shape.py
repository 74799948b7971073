"""Board geometry: an s x s Sudoku with boxes of box_rows x box_cols (s = box_rows * box_cols)."""

from __future__ import annotations

from dataclasses import dataclass

from arena_envs.config import ConfigError

#: The sizes a user can ask for by a single number, and their box shapes.
BOX_SHAPES: dict[int, tuple[int, int]] = {4: (2, 2), 6: (2, 3), 9: (3, 3)}


@dataclass(frozen=True)
class SudokuShape:
    box_rows: int = 3
    box_cols: int = 3

    @property
    def size(self) -> int:
        return self.box_rows * self.box_cols

    @property
    def cells(self) -> int:
        return self.size * self.size

    @staticmethod
    def of_size(size: int) -> SudokuShape:
        if size not in BOX_SHAPES:
            raise ConfigError(f"Sudoku size {size} is not supported; choose one of {sorted(BOX_SHAPES)}")
        return SudokuShape(*BOX_SHAPES[size])

    def box_index(self, row: int, col: int) -> int:
        """Boxes are numbered row-major, 0-based."""
        return (row // self.box_rows) * (self.size // self.box_cols) + col // self.box_cols
