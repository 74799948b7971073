"""Lattice Deduction Transformer (LDT): deduction on candidate sets, sound by construction of its own answers.

State: a candidate lattice x ∈ {0,1}^[B, S, C] (``lattice.py``): which of C values each of S cells may still
take. One *model call* reads the lattice and loops a shared transformer 16 times on a continuous state

    h0 = W_in x                                   [B, S, D]
    h  = h0
    repeat ``loops`` times:
        h   = h + h0                              the input re-injected every loop
        out = backbone([h + pos ; cls])           4 pre-norm blocks over S cells + a CLS token appended last
        h   = LayerNorm(h + out[:, :S])           the outer norm keeps the residual bounded over many loops
        keep_l = W_keep h   [B, S, C]    per-bit "still possible" logit
        val_l  = W_val h    [B, S, C]    per-cell value logits (for branching)
        conf_l = W_conf out[:, S]  [B]   "this lattice has no solution" logit, read on the CLS token

Positions: learned row and column embeddings added to the backbone's input (Sudoku, D = 128), or 2-D RoPE in
attention, half of each head's dims rotating by row and half by column (Maze, D = 192). A board whose groups are
not its rows and columns (Snowflake: hexagon rows of 6 triangles, plus the meeting points) lists the other groups
in ``groups``; each gets a learned embedding too, added to the position of every cell in it, so cells that share a
group share a vector, as the cells of a Sudoku row share the row's. Blocks: pre-norm
LayerNorm, 4-head attention with biases, FFN 4x GELU, dropout 0.1 (attention weights, after attention, after
the FFN). Parameters: 799,635 for 9x9 Sudoku, 1,783,499 for 30x30 Maze (tested).

Between model calls only the projected lattice carries (``deduce`` / ``branch``): alive, non-given bits whose
keep probability is below a threshold die; a cell with no bit left or a firing conflict head is a
contradiction; every cell single and no contradiction is "solved"; otherwise one random undecided cell is
pinned to a value sampled from the value head. Bits are only ever removed, so an answer is a lattice the model
itself took to a full assignment. Loss (``loss``): weighted BCE of the keep logits against (current lattice AND
solution), + 0.2 CE of the value head on undecided-by-the-puzzle cells, + 0.1 BCE of the conflict head,
averaged over the loops. Where a puzzle has several solutions (a maze's shortest paths), "solution" is the
union of those still inside the current lattice, and the conflict target is "none is left"
(``training_targets``). Shapes: B batch, S cells, C values per cell, D hidden, n grid side (S = n*n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class LDTConfig:
    channels: int = 9  # C: Sudoku digits, or Maze's 5 (wall, free, start, goal, path)
    grid: int = 9  # n: the grid is n x n, S = n * n cells (rows, with ``cols``)
    cols: int = 0  # columns when the grid is not square (Snowflake: 6 triangles per hexagon row); 0 = grid
    # cell indices of the board's groups beyond its rows (Snowflake's meeting points): one learned embedding each
    groups: tuple[tuple[int, ...], ...] = ()
    dim: int = 128  # D (Maze runs: 192 unless set)
    layers: int = 4  # pre-norm blocks in the backbone
    heads: int = 4  # attention heads
    ffn_mult: int = 4  # GELU feed-forward width factor
    dropout: float = 0.1  # in training
    loops: int = 16  # shared-weight loops inside one model call
    positions: str = "learned"  # "learned" row + column embeddings (Sudoku) | "rope2d" (Maze)
    rope_base: float = 10000.0  # 2-D RoPE base (rope2d)
    keep_threshold: float = 0.10  # kill an alive bit whose keep probability is below this (Maze 0.5)
    conflict_threshold: float = 0.6  # the conflict head fires above this at evaluation (Maze 0.53)
    branch_temperature: float = 1.5  # softmax temperature of the value picked when branching
    pos_weight: float = 4.0  # w+: BCE weight of bits that stay (current AND solution)
    neg_weight: float = 0.5  # w-: BCE weight of bits that must die
    value_weight: float = 0.2  # weight of the value-head CE
    conflict_weight: float = 0.1  # weight of the conflict-head BCE

    def __post_init__(self) -> None:
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} is not divisible by heads {self.heads}")
        if self.positions not in ("learned", "rope2d"):
            raise ValueError(f"positions must be learned or rope2d, got {self.positions!r}")
        if self.positions == "rope2d" and (self.dim // self.heads) % 4:
            raise ValueError("rope2d needs a head dim divisible by 4 (half per axis, in pairs)")
        if self.positions == "rope2d" and self.cols not in (0, self.grid):
            raise ValueError("rope2d needs a square grid (cols 0 or equal to grid)")
        if min(self.channels, self.grid, self.layers, self.loops) < 1:
            raise ValueError("channels, grid, layers and loops must be >= 1")
        object.__setattr__(self, "groups", tuple(tuple(int(c) for c in g) for g in self.groups))  # JSON gives lists
        if self.groups and self.positions != "learned":
            raise ValueError("groups are learned position embeddings: they need positions='learned'")
        if any(not 0 <= c < self.cells for g in self.groups for c in g):
            raise ValueError(f"a group names a cell outside the {self.cells} cells")

    @property
    def width(self) -> int:
        return self.cols or self.grid

    @property
    def cells(self) -> int:
        return self.grid * self.width


def rope2d_tables(grid: int, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin [S + 1, Dh/2] for 2-D RoPE on an n x n grid plus a CLS token (last, not rotated).

    Pair i of the first half of the head's dims rotates by the cell's row, pair i of the second half by its
    column, both with frequency base^(-2i / (Dh/2)).
    """
    quarter = head_dim // 4
    inv_freq = base ** (-torch.arange(quarter, dtype=torch.float32) * 2 / (head_dim // 2))  # [Dh/4]
    rows = torch.arange(grid).repeat_interleave(grid).float()  # [S]
    cols = torch.arange(grid).repeat(grid).float()
    angles = torch.cat([torch.outer(rows, inv_freq), torch.outer(cols, inv_freq)], dim=-1)  # [S, Dh/2]
    angles = torch.cat([angles, torch.zeros(1, head_dim // 2)])  # CLS: angle 0
    return angles.cos(), angles.sin()


def apply_rope2d(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate interleaved pairs (x_2i, x_2i+1) by their angle. x [B, H, L, Dh]; cos/sin [L, Dh/2]."""
    even, odd = x[..., 0::2], x[..., 1::2]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


class LDTBlock(nn.Module):
    """Pre-norm: x = x + drop(attn(LN(x))); x = x + drop(fc2(gelu(fc1(LN(x)))))."""

    def __init__(self, c: LDTConfig) -> None:
        super().__init__()
        self.heads, self.head_dim = c.heads, c.dim // c.heads
        self.norm1, self.norm2 = nn.LayerNorm(c.dim), nn.LayerNorm(c.dim)
        self.qkv = nn.Linear(c.dim, 3 * c.dim)
        self.out = nn.Linear(c.dim, c.dim)
        self.fc1 = nn.Linear(c.dim, c.ffn_mult * c.dim)
        self.fc2 = nn.Linear(c.ffn_mult * c.dim, c.dim)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None, p: float) -> torch.Tensor:
        b, length, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, length, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if rope is not None:  # q, k [B, H, L, Dh]
            q, k = apply_rope2d(q, *rope), apply_rope2d(k, *rope)
        att = F.scaled_dot_product_attention(q, k, v, dropout_p=p if self.training else 0.0)
        x = x + F.dropout(self.out(att.transpose(1, 2).reshape(b, length, d)), p, self.training)
        return x + F.dropout(self.fc2(F.gelu(self.fc1(self.norm2(x)))), p, self.training)


@dataclass
class LDTOutput:
    """Logits of every loop (training) or of the last (inference): keep [N, B, S, C], value [N, B, S, C],
    conflict [N, B]; N = loops or 1."""

    keep: torch.Tensor
    value: torch.Tensor
    conflict: torch.Tensor


class LDT(nn.Module):
    config_class = LDTConfig

    def __init__(self, config: LDTConfig) -> None:
        super().__init__()
        c = self.config = config
        self.input_proj = nn.Linear(c.channels, c.dim)
        if c.positions == "learned":
            self.row_embed = nn.Parameter(torch.randn(c.grid, c.dim))
            self.col_embed = nn.Parameter(torch.randn(c.width, c.dim))
            if c.groups:  # membership [S, G]: which extra groups each cell is in
                member = torch.zeros(c.cells, len(c.groups))
                for g, cells in enumerate(c.groups):
                    member[list(cells), g] = 1.0
                self.register_buffer("group_member", member, persistent=False)
                self.group_embed = nn.Parameter(torch.randn(len(c.groups), c.dim))
        else:
            cos, sin = rope2d_tables(c.grid, c.dim // c.heads, c.rope_base)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.blocks = nn.ModuleList(LDTBlock(c) for _ in range(c.layers))
        self.cls_embed = nn.Parameter(torch.randn(1, 1, c.dim) * 0.02)
        self.cls_pos = nn.Parameter(torch.randn(1, 1, c.dim) * 0.02)
        self.loop_norm = nn.LayerNorm(c.dim)
        self.keep_head = nn.Linear(c.dim, c.channels)
        self.value_head = nn.Linear(c.dim, c.channels)
        self.conflict_head = nn.Linear(c.dim, 1)
        self.dropout_p = c.dropout  # the agent lowers it for stochastic evaluation (Sudoku: 0.05)

    def size(self) -> int:
        """Every parameter (LDT has no separately counted embedding)."""
        return sum(p.numel() for p in self.parameters())

    def _positions(self) -> torch.Tensor | int:
        if self.config.positions != "learned":
            return 0
        pos = (self.row_embed[:, None, :] + self.col_embed[None, :, :]).reshape(self.config.cells, -1)  # [S, D]
        if self.config.groups:
            pos = pos + self.group_member @ self.group_embed
        return pos

    def backbone(self, h: torch.Tensor) -> torch.Tensor:
        """[B, S, D] -> [B, S + 1, D]: the residual stream after the blocks, the CLS token last."""
        b = h.shape[0]
        cls = (self.cls_embed + self.cls_pos).expand(b, 1, -1)
        x = torch.cat([h + self._positions(), cls], dim=1)
        rope = (self.rope_cos, self.rope_sin) if self.config.positions == "rope2d" else None
        for block in self.blocks:
            x = block(x, rope, self.dropout_p)
        return x

    def forward(self, lattice: torch.Tensor, all_loops: bool = False) -> LDTOutput:
        """One model call on lattices [B, S, C] (bool or float)."""
        s = self.config.cells
        h0 = self.input_proj(lattice.to(self.input_proj.weight.dtype))  # [B, S, D]
        h = h0
        keep, value, conflict = [], [], []
        for loop in range(self.config.loops):
            h = h + h0
            out = self.backbone(h)
            h = self.loop_norm(h + out[:, :s])
            if all_loops or loop == self.config.loops - 1:
                keep.append(self.keep_head(h))
                value.append(self.value_head(h))
                conflict.append(self.conflict_head(out[:, s])[:, 0])
        return LDTOutput(torch.stack(keep), torch.stack(value), torch.stack(conflict))

    def nfe_per_call(self) -> int:
        """Backbone applications in one model call."""
        return self.config.loops

    def loss(
        self,
        out: LDTOutput,
        lattice: torch.Tensor,
        solution: torch.Tensor,
        givens: torch.Tensor,
        solvable: torch.Tensor,
        lost: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean over loops of: weighted BCE of keep logits against target = lattice AND solution (all zero for
        an unsolvable lattice), over every bit; + value_weight * CE of the value head on cells the puzzle leaves
        open with one solution value; + conflict_weight * BCE of the conflict head against ``lost``.

        lattice, solution: bool [B, S, C] (solution from ``training_targets``); givens: bool [B, S]; solvable:
        bool [B] (False for deliberately corrupted samples); lost: bool [B], no solution is left in the
        lattice. Returns (loss, metrics as batch means).
        """
        c = self.config
        target = (lattice & solution & solvable[:, None, None]).float()  # [B, S, C]
        ce_cells = ~givens & (solution.sum(-1) == 1) & solvable[:, None]  # [B, S]
        truth = solution.float().argmax(-1)  # [B, S]
        total = torch.zeros((), device=lattice.device)
        for keep, value, conflict in zip(out.keep, out.value, out.conflict):
            log_p, log_not_p = F.logsigmoid(keep.float()), F.logsigmoid(-keep.float())
            bce = -(c.pos_weight * target * log_p + c.neg_weight * (1 - target) * log_not_p).mean()
            ce = F.cross_entropy(value[ce_cells].float(), truth[ce_cells]) if ce_cells.any() else total * 0
            conf = F.binary_cross_entropy_with_logits(conflict.float(), lost.float())
            total = total + bce + c.value_weight * ce + c.conflict_weight * conf
        loss = total / len(out.keep)
        with torch.no_grad():
            last_keep = torch.sigmoid(out.keep[-1].float()) >= c.keep_threshold
            wrong_kill = (lattice & solution & ~last_keep).any(-1).any(-1) & ~lost
            metrics = {
                "wrong_kill_rate": wrong_kill.float().mean(),  # a bit some remaining solution needs would die
                "conflict_accuracy": ((out.conflict[-1] > 0) == lost).float().mean(),
            }
        return loss, metrics


def training_targets(
    lattice: torch.Tensor, solutions: torch.Tensor, solvable: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The keep target's solution and the conflict target of lattices, given every solution they started with.

    lattice bool [B, S, C]; solutions bool [B, K, S, C], one one-hot lattice per solution (rows may repeat);
    solvable bool [B]. A solution is still *consistent* when each of its bits is alive. Returns
    (solution [B, S, C], lost [B]): the union of the consistent solutions, and lost = none is consistent (or
    the sample is unsolvable). When none is consistent the union of them all stands in, so with one solution
    (Sudoku) the target is the published "lattice AND solution" in every case. Training on a single solution
    of a maze would teach the model to kill other shortest paths, and a static union of all of them would call
    a lattice that mixes two paths consistent; conditioning on the lattice avoids both.
    """
    consistent = ~(solutions & ~lattice[:, None]).flatten(2).any(-1)  # [B, K]
    any_left = consistent.any(-1)  # [B]
    union_left = (solutions & consistent[:, :, None, None]).any(1)
    solution = torch.where(any_left[:, None, None], union_left, solutions.any(1))
    return solution, ~any_left | ~solvable


# -- projection between model calls ---------------------------------------------------------------------------


def deduce(
    lattice: torch.Tensor,
    givens: torch.Tensor,
    keep_logits: torch.Tensor,
    conflict_logits: torch.Tensor,
    keep_threshold: float,
    conflict_threshold: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Kill alive non-given bits whose keep probability is below the threshold.

    lattice bool [B, S, C], givens bool [B, S], keep_logits [B, S, C], conflict_logits [B].
    Returns (lattice, conflict [B], solved [B]): conflict = a cell with no bit left or the conflict head
    above its threshold; solved = every cell single and no conflict.
    """
    kill = (torch.sigmoid(keep_logits.float()) < keep_threshold) & lattice & ~givens[..., None]
    lattice = lattice & ~kill
    count = lattice.sum(-1)
    conflict = (count == 0).any(-1) | (torch.sigmoid(conflict_logits.float()) > conflict_threshold)
    solved = (count == 1).all(-1) & ~conflict
    return lattice, conflict, solved


def branch(
    lattice: torch.Tensor,
    value_logits: torch.Tensor,
    rows: torch.Tensor,
    temperature: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """For each row in ``rows`` (bool [B]), pin one uniformly random undecided cell to a value sampled from
    softmax(value_logits / temperature) over its alive values. Rows without an undecided cell are unchanged."""
    undecided = (lattice.sum(-1) > 1) & rows[:, None]  # [B, S]
    which = torch.nonzero(undecided.any(-1)).flatten()
    if which.numel() == 0:
        return lattice
    weights = undecided[which].float()
    cell = torch.multinomial(weights, 1, generator=generator).flatten()  # [R]
    alive = lattice[which, cell]  # [R, C]
    logits = (value_logits[which, cell].float() / temperature).masked_fill(~alive, -math.inf)
    value = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).flatten()
    lattice = lattice.clone()
    lattice[which, cell] = F.one_hot(value, lattice.shape[-1]).bool()
    return lattice
