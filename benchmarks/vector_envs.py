"""Native vector envs against ``gymnasium.vector.SyncVectorEnv`` of the scalar step envs: env steps per second
per core, both measured in the same run.

Each case runs the same loop on both: read the N action masks (``envs.action_masks()`` natively,
``envs.call("action_masks")`` stacked for Sync), draw one uniform masked random action per env with the same
compiled sampler (one call for all N, from one vector of uniforms), and ``step``. Steps on which an env is
autoreset count as env steps for both, as they do for a learner. Reported per case: the whole loop's rate (masks +
policy + step) and the rate of ``step()`` alone, in env steps per CPU second (``time.process_time``, which sums
every thread's time; the kernels are serial and numba's thread count is set to 1), so the figures are per core.
Sudoku runs with ``mask_conflicts=True``: the masked policy then never breaks a rule, so its episodes last longer
than one or two moves.
Writes benchmarks/results/vector-envs.json.

    python benchmarks/vector_envs.py [--seconds 3] [--native-envs 256 1024] [--sync-envs 256]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numba
import numpy as np
from numba import njit

import arena_envs  # noqa: F401  (registers the arena/ ids)

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "sudoku-9x9": ("arena/SudokuExtremeStep-v0", {"mask_conflicts": True}),  # the bundled test split
    "sudoku-4x4": ("arena/SudokuExtremeStep-v0", {"size": 4, "mask_conflicts": True}),  # 1,000 generated boards
    "maze-30x30": ("arena/MazeHardStep-v0", {}),  # the bundled test split
}


@njit(cache=True)
def sample_masked(masks: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """int64 [N]: for each row of ``masks`` (bool [N, A]) the allowed action of rank ``floor(u * allowed)``, i.e. a
    uniform draw among the allowed ones (``uniforms`` float [N] in [0, 1)); action 0 when none is allowed (an env
    whose episode is over, whose next action is ignored)."""
    n, a = masks.shape
    bits = masks.view(np.uint8)  # summing bytes vectorises; summing bools does not
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        allowed = 0
        for j in range(a):
            allowed += bits[i, j]
        if allowed == 0:
            continue
        rank = int(uniforms[i] * allowed)
        for j in range(a):
            rank -= bits[i, j]
            if rank < 0:
                out[i] = j
                break
    return out


def measure(envs: gym.vector.VectorEnv, masks_of: Callable[[], np.ndarray], seconds: float) -> dict[str, float]:
    """Run the masked random policy for about ``seconds`` of CPU time; env steps per CPU second for the whole loop
    and for ``step()`` alone."""
    rng = np.random.default_rng(0)
    n = envs.num_envs
    envs.reset(seed=0)
    for _ in range(3):  # warm up: numba compiles (or loads its cache) on the first calls
        envs.step(sample_masked(masks_of(), rng.random(n)))
    steps, in_step, episodes = 0, 0.0, 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        actions = sample_masked(masks_of(), rng.random(n))  # int64 [N]
        t0 = time.process_time()
        _, _, terminated, truncated, _ = envs.step(actions)
        in_step += time.process_time() - t0
        steps += 1
        episodes += int(np.count_nonzero(terminated | truncated))
    total = time.process_time() - start
    return {
        "num_envs": n,
        "vector_steps": steps,
        "episodes": episodes,
        "loop_env_steps_per_s": steps * n / total,
        "step_env_steps_per_s": steps * n / in_step,
    }


def native(env_id: str, options: dict[str, Any], num_envs: int, seconds: float) -> dict[str, float]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **options)
    return measure(envs, envs.action_masks, seconds)


def sync(env_id: str, options: dict[str, Any], num_envs: int, seconds: float) -> dict[str, float]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **options)
    return measure(envs, lambda: np.stack(envs.call("action_masks")), seconds)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cpus_visible": os.cpu_count(),
        "threads_used": 1,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "gymnasium": gym.__version__,
    }


def run(seconds: float, native_envs: list[int], sync_envs: int, cases: list[str]) -> dict[str, Any]:
    numba.set_num_threads(1)
    results: dict[str, Any] = {"machine": machine(), "seconds_per_measurement": seconds, "cases": {}}
    for name in cases:
        env_id, options = CASES[name]
        base = sync(env_id, options, sync_envs, seconds)
        rows = {f"native_{n}": native(env_id, options, n, seconds) for n in native_envs}
        best = max(rows.values(), key=lambda r: r["loop_env_steps_per_s"])
        results["cases"][name] = {
            "env_id": env_id,
            "options": options,
            f"sync_{sync_envs}": base,
            **rows,
            "loop_speedup": best["loop_env_steps_per_s"] / base["loop_env_steps_per_s"],
            "step_speedup": best["step_env_steps_per_s"] / base["step_env_steps_per_s"],
        }
        shown = {k: round(v["loop_env_steps_per_s"]) for k, v in {"sync": base, **rows}.items()}
        print(name, "loop env steps/s:", shown, f"speedup x{results['cases'][name]['loop_speedup']:.1f}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per measurement")
    parser.add_argument("--native-envs", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--sync-envs", type=int, default=256)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "vector-envs.json")
    args = parser.parse_args()
    results = run(args.seconds, args.native_envs, args.sync_envs, args.cases)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
