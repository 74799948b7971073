"""Training and inference throughput of TRM-Att, TRM-MLP and HRM at the papers' Sudoku sizes.

For each model, on one device, in the same run:
  * training samples/s: optimiser steps of the real trainer (one supervision step per slot each),
    times the batch, per second;
  * inference puzzles/s: 16-step fixed inference (as ``arena eval`` runs it) at batch B, against the
    baseline of the same model answering one puzzle at a time (batch 1);
  * on CUDA: bf16 autocast against fp32, torch.compile against eager, and the model FLOP utilisation
    (forward+backward FLOPs actually needed per step / time / the GPU's dense bf16 peak).
Writes benchmarks/results/recursive-<device>.json.

    python benchmarks/bench_recursive.py                 # CPU, small batches
    python benchmarks/bench_recursive.py --device cuda   # GPU, batch 768 as in the papers
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from arena_agents.recursive.base import SupervisionBatch
from arena_agents.recursive.hrm import HRM, HRMConfig
from arena_agents.recursive.optim import AdamATan2
from arena_agents.recursive.train import compile_stacks
from arena_agents.recursive.trm import TRM, TRMConfig

MODELS = {
    "trm-att": lambda: TRM(TRMConfig()),
    "trm-mlp": lambda: TRM(TRMConfig(mlp_mixer=True)),
    "hrm": lambda: HRM(HRMConfig()),
}
PEAK_BF16 = {"H100": 989e12, "H200": 989e12}  # dense bf16 tensor-core peak of the SXM parts


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device, warmup: int, repeat: int) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / repeat


def train_rate(model, batch: int, device, bf16: bool, warmup: int, repeat: int) -> float:
    """Samples per second of a full optimiser step (forward, loss, backward, AdamATan2)."""
    opt = AdamATan2(model.parameters(), lr=1e-4, weight_decay=1.0)
    tokens = torch.randint(1, 11, (batch, model.config.seq_len), device=device)
    labels = torch.randint(2, 11, (batch, model.config.seq_len), device=device)
    carry = model.initial_carry(batch, device)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else nullcontext()

    batch_data = SupervisionBatch(tokens, labels, torch.ones(batch, dtype=torch.long, device=device), 16)

    def step():
        with ctx:
            out = model(tokens, carry)
            loss, _ = model.loss(out, batch_data)
        (loss / batch).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return batch / _timed(step, device, warmup, repeat)


@torch.no_grad()
def infer_rate(model, batch: int, device, bf16: bool, warmup: int, repeat: int, steps: int = 16) -> float:
    tokens = torch.randint(1, 11, (batch, model.config.seq_len), device=device)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else nullcontext()

    def run():
        carry = model.initial_carry(batch, device)
        for _ in range(steps):
            with ctx:
                carry = model(tokens, carry).carry

    return batch / _timed(run, device, warmup, repeat)


def write_results(gpu: str, train_batch: int, infer_batch: int, peak: float | None, results: dict, cuda: bool) -> None:
    out = {
        "device": gpu,
        "torch": torch.__version__,
        "train_batch": train_batch,
        "infer_batch": infer_batch,
        "peak_bf16_flops": peak,
        "results": results,
    }
    path = Path(__file__).parent / "results" / f"recursive-{'gpu' if cuda else 'cpu'}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--train-batch", type=int, default=None, help="default 768 on CUDA, 8 on CPU")
    parser.add_argument("--infer-batch", type=int, default=None, help="default 1024 on CUDA, 4 on CPU")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile measurements (slow to build)")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    train_batch = args.train_batch or (768 if cuda else 8)
    infer_batch = args.infer_batch or (1024 if cuda else 4)
    repeat = args.repeat or (10 if cuda else 1)
    warmup = 3 if cuda else 1
    gpu = torch.cuda.get_device_name(device) if cuda else "cpu"
    peak = next((v for k, v in PEAK_BF16.items() if k in gpu), None)
    results: dict[str, dict] = {}
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = MODELS[name]().to(device)
        r: dict[str, float | int | None] = {"parameters": model.size()}
        precision = [True, False] if cuda else [False]
        for bf16 in precision:
            tag = "bf16" if bf16 else "fp32"
            r[f"train_samples_per_s_{tag}"] = train_rate(model, train_batch, device, bf16, warmup, repeat)
            r[f"infer_puzzles_per_s_{tag}"] = infer_rate(model, infer_batch, device, bf16, warmup, repeat)
        main_tag = "bf16" if cuda else "fp32"
        r["infer_puzzles_per_s_batch1"] = infer_rate(model, 1, device, cuda, warmup, max(2, repeat // 2))
        r["infer_batched_vs_batch1"] = r[f"infer_puzzles_per_s_{main_tag}"] / r["infer_puzzles_per_s_batch1"]
        if cuda:
            r["train_bf16_vs_fp32"] = r["train_samples_per_s_bf16"] / r["train_samples_per_s_fp32"]
            if not args.no_compile:
                compiled = MODELS[name]().to(device)
                compile_stacks(compiled)
                r["train_samples_per_s_bf16_compiled"] = train_rate(compiled, train_batch, device, True, 5, repeat)
                r["infer_puzzles_per_s_bf16_compiled"] = infer_rate(compiled, infer_batch, device, True, 3, repeat)
                r["train_compiled_vs_eager"] = r["train_samples_per_s_bf16_compiled"] / r["train_samples_per_s_bf16"]
            flops = model.train_flops_per_step()
            best = max(r["train_samples_per_s_bf16"], r.get("train_samples_per_s_bf16_compiled", 0.0))
            r["train_tflops_per_s"] = flops * best / 1e12
            r["mfu"] = flops * best / peak if peak else None
            r["infer_mfu"] = (
                16
                * model.flops_per_step()
                * max(r["infer_puzzles_per_s_bf16"], r.get("infer_puzzles_per_s_bf16_compiled", 0.0))
                / peak
                if peak
                else None
            )
        results[name] = r
        print(name, json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}), flush=True)
        del model
        write_results(gpu, train_batch, infer_batch, peak, results, cuda)  # after each model: a timeout keeps the rest


if __name__ == "__main__":
    main()
