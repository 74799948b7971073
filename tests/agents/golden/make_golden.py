"""Write the golden fixtures that pin our TRM and HRM to the official code's outputs.

Run once, by hand, with the two official repositories checked out; the tests only read what this writes
(``tests/agents/test_golden.py``) and never need the official code:

    pip install einops                     # the official TRM layers import it (pydantic comes with the llm extra)
    git clone https://github.com/SamsungSAILMontreal/TinyRecursiveModels && git -C TinyRecursiveModels checkout e7b6871
    git clone https://github.com/sapientinc/HRM && git -C HRM checkout 42410da
    python tests/agents/golden/make_golden.py --trm TinyRecursiveModels --hrm HRM

For each network (TRM with attention, TRM-MLP, HRM) at hidden size 64 in fp32 on the CPU it

1. builds the official ``*_ACTV1`` model with ``forward_dtype=float32`` and overwrites every parameter and
   persistent buffer with :func:`golden_weights.golden_tensor` of its official name (no weights are stored);
2. runs three supervision (ACT) steps in evaluation mode through the official ``ACTLossHead`` on a fixed
   batch of 4 Sudoku token sequences, recording logits, q_halt, q_continue and the loss of every step;
3. runs one training-mode step (HRM's Q-continue target from its second forward included), backpropagates
   loss / batch as the official trainer does, and records each parameter gradient's norm and its dot
   product with a fixed probe tensor, plus the puzzle-embedding gradient summed per puzzle id.

flash-attn is replaced by PyTorch's scaled_dot_product_attention (same maths, [B, S, H, Dh] layout); nothing
else of the official code is changed. Output: ``<case>.safetensors`` beside this file, with the official
commit, class, config and parameter table as JSON metadata.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import types
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from golden_weights import golden_std, golden_tensor  # noqa: E402

COMMITS = {"trm": "e7b68717f0a6c4cbb4ce6fbef787b14f42083bd9", "hrm": "42410daaaf6ac8b266536d105a6e2362ffe40929"}
BATCH, SEQ, VOCAB, HIDDEN, PUZZLE_IDS, STEPS = 4, 81, 11, 64, 3, 3

_SHARED = {
    "batch_size": BATCH,
    "seq_len": SEQ,
    "vocab_size": VOCAB,
    "num_puzzle_identifiers": PUZZLE_IDS,
    "puzzle_emb_ndim": HIDDEN,
    "hidden_size": HIDDEN,
    "num_heads": 4,
    "expansion": 4,
    "halt_max_steps": 16,
    "halt_exploration_prob": 0.1,
    "forward_dtype": "float32",
}
_TRM = {
    **_SHARED,
    "H_cycles": 3,
    "L_cycles": 6,
    "H_layers": 0,
    "L_layers": 2,
    "puzzle_emb_len": 16,
    "no_ACT_continue": True,
}
_TRM_CLASS = ("trm", "models.recursive_reasoning.trm", "TinyRecursiveReasoningModel_ACTV1")
CASES = {  # case -> (repository, module, class, config)
    "trm_att": (*_TRM_CLASS, {**_TRM, "pos_encodings": "rope", "mlp_t": False}),
    "trm_mlp": (*_TRM_CLASS, {**_TRM, "pos_encodings": "none", "mlp_t": True}),
    "hrm": (
        "hrm",
        "models.hrm.hrm_act_v1",
        "HierarchicalReasoningModel_ACTV1",
        {**_SHARED, "H_cycles": 2, "L_cycles": 2, "H_layers": 4, "L_layers": 4, "pos_encodings": "rope"},
    ),
}


def _sdpa_flash_attn(q, k, v, causal=False, **_):
    """flash_attn_func's contract ([B, S, H, Dh] in and out) on PyTorch's attention."""
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=causal)
    return out.transpose(1, 2)


def _import_official(repo: Path, module: str, cls: str):
    """Import ``module`` from ``repo``; both repositories call their package ``models``, so start clean."""
    for name in [n for n in sys.modules if n == "models" or n.startswith(("models.", "utils"))]:
        del sys.modules[name]
    sys.modules.setdefault("flash_attn", types.SimpleNamespace(flash_attn_func=_sdpa_flash_attn))
    sys.path.insert(0, str(repo))
    try:
        return getattr(importlib.import_module(module), cls), importlib.import_module("models.losses").ACTLossHead
    finally:
        sys.path.remove(str(repo))


def _commit(repo: Path, expected: str) -> str:
    try:
        found = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        print(f"warning: {repo} is not a git checkout; recording commit {expected} as given", file=sys.stderr)
        return expected
    if found != expected:
        raise SystemExit(f"{repo} is at {found}, not {expected}; check out the commit the fixtures pin")
    return found


def _overwrite_with_golden(model: torch.nn.Module) -> list[dict]:
    """Every parameter and persistent buffer := golden_tensor(official name). Returns the table stored."""
    table = []
    persistent = dict(model.state_dict())
    with torch.no_grad():
        for name, tensor in persistent.items():
            shape = list(tensor.shape)
            std = golden_std(name, shape, HIDDEN)
            tensor.copy_(torch.from_numpy(golden_tensor(name, shape, std)))
            table.append({"name": name, "shape": shape, "std": std})
    return table


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(14)
    labels = torch.randint(2, VOCAB, (BATCH, SEQ), generator=g)
    blank = torch.rand(BATCH, SEQ, generator=g) < 0.6
    inputs = torch.where(blank, torch.ones_like(labels), labels)
    labels[0, :5] = -100  # ignored positions, as the official data pads
    labels[1] = inputs[1].clamp(min=2)  # one sequence the argmax might get right: both BCE targets occur
    return {
        "inputs": inputs.to(torch.int32),
        "labels": labels.to(torch.int32),
        "puzzle_identifiers": torch.tensor([0, 1, 2, 1], dtype=torch.int32),
    }


def make_case(case: str, repos: dict[str, Path]) -> Path:
    repo_key, module, cls, config = CASES[case]
    model_cls, loss_head_cls = _import_official(repos[repo_key], module, cls)
    torch.manual_seed(0)
    model = model_cls(dict(config))
    table = _overwrite_with_golden(model)
    head = loss_head_cls(model, loss_type="stablemax_cross_entropy")
    batch = _batch()
    tensors: dict[str, torch.Tensor] = {k: v.to(torch.int64) for k, v in batch.items()}

    head.eval()
    carry = head.initial_carry(batch)
    with torch.no_grad():
        for step in range(1, STEPS + 1):
            keys = ["logits", "q_halt_logits", "q_continue_logits"]
            carry, loss, _metrics, outputs, _ = head(return_keys=keys, carry=carry, batch=batch)
            tensors[f"logits_step{step}"] = outputs["logits"].float()
            tensors[f"q_halt_step{step}"] = outputs["q_halt_logits"].float()
            tensors[f"q_continue_step{step}"] = outputs["q_continue_logits"].float()
            tensors[f"loss_step{step}"] = loss.double().reshape(1)

    head.train()
    torch.manual_seed(0)
    carry = head.initial_carry(batch)
    carry, loss, _metrics, _outputs, _ = head(return_keys=[], carry=carry, batch=batch)
    ((1 / BATCH) * loss).backward()
    tensors["train_loss_step1"] = loss.detach().double().reshape(1)
    names, norms, probes = [], [], []
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        names.append(name)
        norms.append(p.grad.double().norm())
        probe = torch.from_numpy(golden_tensor("probe:" + name, list(p.shape), 1.0)).double()
        probes.append((p.grad.double() * probe).sum())
    tensors["grad_norm"] = torch.stack(norms)
    tensors["grad_probe"] = torch.stack(probes)
    sparse = model.puzzle_emb  # official: per-sample rows with gradient, summed here per puzzle id
    per_id = torch.zeros(PUZZLE_IDS, HIDDEN, dtype=torch.float64)
    per_id.index_add_(0, sparse.local_ids.long(), sparse.local_weights.grad.double())
    tensors["puzzle_emb_grad"] = per_id

    counted = sum(p.numel() for p in model.parameters())
    metadata = {
        "case": case,
        "official_repository": {"trm": "SamsungSAILMontreal/TinyRecursiveModels", "hrm": "sapientinc/HRM"}[repo_key],
        "official_commit": _commit(repos[repo_key], COMMITS[repo_key]),
        "official_class": f"{module}.{cls}",
        "official_config": json.dumps(config),
        "official_parameters": str(counted),
        "weights": json.dumps(table),
        "grad_names": json.dumps(names),
        "torch": torch.__version__,
        "made_by": "tests/agents/golden/make_golden.py",
    }
    out = HERE / f"{case}.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out), metadata=metadata)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trm", type=Path, required=True, help="TinyRecursiveModels checkout at e7b6871")
    parser.add_argument("--hrm", type=Path, required=True, help="HRM checkout at 42410da")
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="default: all")
    args = parser.parse_args()
    torch.set_grad_enabled(True)
    for case in args.case or sorted(CASES):
        path = make_case(case, {"trm": args.trm.resolve(), "hrm": args.hrm.resolve()})
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
