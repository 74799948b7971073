"""Weights of the official HRM (sapientinc/HRM) and TRM (SamsungSAILMontreal/TinyRecursiveModels) code in our
modules: the same networks, other parameter names.

The golden tests (tests/agents/test_golden.py) run this conversion on weights the official code used and
compare outputs, so a state dict converted here computes what the official model computes. It also loads
checkpoints the official trainer saved (``torch.save(model.state_dict())``: tensors only, so
``torch.load(path, weights_only=True)`` reads them) into ``trm:`` / ``hrm:`` agents, see :func:`convert_checkpoint`.

Official config keys (the ``arch`` section of its ``all_config.yaml``) map to ours as
    hidden_size -> hidden, num_heads -> heads, expansion, rope_theta -> rope_base, halt_max_steps -> max_steps,
    TRM: L_layers -> layers, L_cycles -> n (n_latent), H_cycles -> T (t_cycles), mlp_t -> mlp_mixer,
         puzzle_emb_len -> prefix_len (0 there means ceil(puzzle_emb_ndim / hidden_size));
    HRM: H_layers / L_layers -> h_layers / l_layers, H_cycles / L_cycles -> h_cycles / l_cycles,
         prefix_len = ceil(puzzle_emb_ndim / hidden_size).
and the vocabulary and the number of puzzle ids come from the embedding shapes.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from arena_agents.recursive.checkpoint import CheckpointError, save_weights
from arena_agents.recursive.models import model_config

# Official module names -> ours, per family (applied after the wrapper prefixes are stripped).
_LEVELS = {"trm": {"L_level": "net"}, "hrm": {"H_level": "f_h", "L_level": "f_l"}}
_INITS = {"trm": {"H_init": "y_init", "L_init": "z_init"}, "hrm": {"H_init": "zh_init", "L_init": "zl_init"}}
_RENAMES = [
    (r"\.layers\.", ".blocks."),
    (r"self_attn\.qkv_proj", "mix.qkv"),
    (r"self_attn\.o_proj", "mix.out"),
    (r"mlp_t\.gate_up_proj", "mix.gate_up"),
    (r"mlp_t\.down_proj", "mix.down"),
    (r"mlp\.gate_up_proj", "mlp.gate_up"),
    (r"mlp\.down_proj", "mlp.down"),
    (r"^embed_tokens\.embedding_weight$", "inputs.embed.weight"),
    (r"^puzzle_emb\.weights$", "inputs.puzzle_emb"),
]
_WRAPPERS = ("_orig_mod.", "model.", "inner.")  # torch.compile, ACTLossHead, the ACT wrapper


def official_name_to_ours(kind: str, name: str) -> str | None:
    """Our parameter name for an official one; None for official tensors we do not keep (none today)."""
    for prefix in _WRAPPERS:
        name = name.removeprefix(prefix)
    if name in _INITS[kind]:
        return _INITS[kind][name]
    head, dot, rest = name.partition(".")
    if head in _LEVELS[kind]:
        name = _LEVELS[kind][head] + dot + rest
    for pattern, replacement in _RENAMES:
        name = re.sub(pattern, replacement, name)
    return name


def _get(arch: Mapping[str, Any], key: str) -> Any:
    if key not in arch:
        raise CheckpointError(f"the official config has no {key!r}; pass the 'arch' section of its all_config.yaml")
    return arch[key]


def official_config(kind: str, arch: Mapping[str, Any], *, seq_len: int, vocab_size: int, num_puzzle_ids: int) -> Any:
    """Our model config for an official ``arch`` config; refuses settings our networks do not implement."""
    hidden = int(_get(arch, "hidden_size"))
    ndim = int(arch.get("puzzle_emb_ndim", 0))
    if ndim not in (0, hidden):
        raise CheckpointError(
            f"puzzle_emb_ndim={ndim}: only one learned prefix token (ndim = hidden_size) is supported"
        )
    if float(arch.get("rms_norm_eps", 1e-5)) != 1e-5:
        raise CheckpointError(f"rms_norm_eps={arch['rms_norm_eps']}: our blocks use 1e-5")
    mlp_t = bool(arch.get("mlp_t", False))
    positions = arch.get("pos_encodings", "rope")
    if positions not in ("rope", "none") or (positions == "none" and not mlp_t):
        raise CheckpointError(f"pos_encodings={positions!r} is not supported (rope, or none for mlp_t)")
    shared = {
        "vocab_size": vocab_size,
        "seq_len": seq_len,
        "hidden": hidden,
        "heads": int(_get(arch, "num_heads")),
        "expansion": float(_get(arch, "expansion")),
        "max_steps": int(_get(arch, "halt_max_steps")),
        "num_puzzle_ids": num_puzzle_ids,
        "rope_base": float(arch.get("rope_theta", 10000.0)),
    }
    prefix = math.ceil(ndim / hidden)
    if kind == "trm":
        emb_len = int(arch.get("puzzle_emb_len", 16))
        options = {
            **shared,
            "layers": int(_get(arch, "L_layers")),
            "n_latent": int(_get(arch, "L_cycles")),
            "t_cycles": int(_get(arch, "H_cycles")),
            "prefix_len": emb_len if emb_len and ndim else prefix,
            "mlp_mixer": mlp_t,
        }
    elif kind == "hrm":
        options = {
            **shared,
            "h_layers": int(_get(arch, "H_layers")),
            "l_layers": int(_get(arch, "L_layers")),
            "h_cycles": int(_get(arch, "H_cycles")),
            "l_cycles": int(_get(arch, "L_cycles")),
            "prefix_len": prefix,
        }
    else:
        raise CheckpointError(f"no official code to convert for {kind!r}; choose trm or hrm")
    return model_config(kind, options)


def convert_state_dict(
    kind: str, arch: Mapping[str, Any], state: Mapping[str, torch.Tensor], *, seq_len: int
) -> tuple[Any, dict[str, torch.Tensor]]:
    """(our model config, our state dict) for an official state dict and its ``arch`` config.

    The vocabulary and the number of puzzle ids are read from the embedding shapes; ``seq_len`` (grid
    tokens: 81 Sudoku, 900 Maze and ARC) is not recorded in the official weights, so it is asked for.
    """
    ours: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        mapped = official_name_to_ours(kind, name)
        if mapped is not None:
            ours[mapped] = tensor.detach().float() if tensor.is_floating_point() else tensor.detach()
    if "inputs.embed.weight" not in ours:
        raise CheckpointError("no embed_tokens weight in this state dict: it is not an official HRM/TRM checkpoint")
    hidden = ours["inputs.embed.weight"].shape[1]
    if "inputs.puzzle_emb" not in ours:  # puzzle_emb_ndim = 0: no learned prefix
        ours["inputs.puzzle_emb"] = torch.zeros(1, hidden)
    config = official_config(
        kind,
        arch,
        seq_len=seq_len,
        vocab_size=ours["inputs.embed.weight"].shape[0],
        num_puzzle_ids=ours["inputs.puzzle_emb"].shape[0],
    )
    return config, ours


def convert_checkpoint(
    kind: str,
    checkpoint: str | Path,
    arch: Mapping[str, Any],
    out: str | Path,
    *,
    family: str,
    grid_shape: tuple[int, ...],
) -> Path:
    """Write an official checkpoint file as our safetensors weights, loadable as ``KIND:OUT``.

    ``family`` and ``grid_shape`` say which puzzles it answers (e.g. "sudoku", (9, 9)); the weights load with
    ``weights_only=True`` and must fit the converted config exactly.
    """
    from arena_agents.recursive.models import build_model

    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise CheckpointError(f"{checkpoint} cannot be loaded safely ({type(exc).__name__}: {exc})") from None
    config, ours = convert_state_dict(kind, arch, state, seq_len=math.prod(grid_shape))
    model = build_model(kind, config)
    try:
        model.load_state_dict(ours)
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint} does not fit the converted {kind} config: {exc}") from None
    out = Path(out)
    save_weights(
        out,
        kind,
        dataclasses.asdict(config),
        model.state_dict(),
        family=family,
        grid_shape=list(grid_shape),
        converted_from=str(checkpoint),
    )
    return out
