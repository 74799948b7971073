"""An SB3 ``VecEnv`` over a Gymnasium vector env, so SB3 and sb3-contrib train on the arena's native vector envs.

The two APIs differ in three ways, and the adapter bridges each:

- SB3 resets a finished sub-env inside the same ``step`` call and hands the last observation over in
  ``infos[i]["terminal_observation"]``. That is Gymnasium's ``AutoresetMode.SAME_STEP`` (``final_obs`` in the
  info dict), so the wrapped vector env must run in that mode; the adapter checks it.
- SB3 wants ``infos`` as one dict per sub-env, Gymnasium gives one dict of arrays with ``_key`` masks.
- MaskablePPO asks ``env_method("action_masks")``: the adapter answers from the vector env's own batched
  ``action_masks()`` (native envs) or from each sub-env (``SyncVectorEnv``), [N, A] either way.

Seeding follows SB3: ``seed(s)`` makes the next ``reset`` seed sub-env i with ``s + i``, as SyncVectorEnv does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from arena_envs.config import ConfigError
from arena_envs.curriculum import solved

MASK_METHOD = "action_masks"


def batched_masks(env: gym.vector.VectorEnv) -> np.ndarray:
    """bool [N, A]: the legal actions of every sub-env, from a native env's batched method or each sub-env."""
    own = getattr(env, MASK_METHOD, None)
    if callable(own):
        return np.asarray(own(), dtype=bool)
    return np.stack([np.asarray(m, dtype=bool) for m in env.call(MASK_METHOD)])


class GymnasiumVecEnv(VecEnv):
    """SB3's view of a Gymnasium ``VectorEnv`` that autoresets in the same step."""

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        mode = env.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ConfigError(
                f"SB3 needs a vector env that resets finished sub-envs in the same step; this one's autoreset_mode "
                f"is {mode!r}: make it with autoreset_mode=AutoresetMode.SAME_STEP"
            )
        self.env = env
        self.render_mode = env.render_mode  # SB3 reads it from here
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions: np.ndarray | None = None
        self._next_seed: int | None = None

    # -- the VecEnv API ---------------------------------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        seed, self._next_seed = self._next_seed, None
        obs, info = self.env.reset(seed=seed)
        self.reset_infos = split_info(info, self.num_envs)
        return obs

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        self._next_seed = seed
        return [None if seed is None else seed + i for i in range(self.num_envs)]

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async()")
        obs, rewards, terminated, truncated, info = self.env.step(self._actions)
        self._actions = None
        dones = np.logical_or(terminated, truncated)
        infos = split_info(info, self.num_envs)
        final_obs = info.get("final_obs")
        final_infos = split_info(info["final_info"], self.num_envs) if "final_info" in info else infos
        for i in np.flatnonzero(dones):
            # the info of the step that ended the episode (SAME_STEP puts the new episode's info in `info`)
            infos[i] = {**final_infos[i], "terminal_observation": final_obs[i]}
            infos[i]["is_success"] = solved(final_infos[i])
            # SB3 bootstraps the value of a truncated (not terminated) episode from its last observation
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, np.asarray(rewards, dtype=np.float32), dones, infos

    def close(self) -> None:
        self.env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.env.render()
        return list(frames) if frames is not None else [None] * self.num_envs

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        rows = self._rows(indices)
        if method_name == MASK_METHOD:
            masks = batched_masks(self.env)
            return [masks[i] for i in rows]
        results = self.env.call(method_name, *method_args, **method_kwargs)
        return [results[i] for i in rows]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "render_mode" or not hasattr(self.env, "get_attr"):  # a native env: one value for all
            values = [getattr(self.env, attr_name)] * self.num_envs
        else:
            values = self.env.get_attr(attr_name)
        return [values[i] for i in self._rows(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if indices is not None:
            raise ConfigError("set_attr on some sub-envs only is not supported by Gymnasium vector envs")
        self.env.set_attr(attr_name, value)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._rows(indices)]

    def has_attr(self, attr_name: str) -> bool:
        if attr_name == MASK_METHOD:
            return True
        try:
            self.get_attr(attr_name)
        except AttributeError:
            return False
        return True

    # -- helpers ----------------------------------------------------------------------------------------------

    def _rows(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)


def split_info(info: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Gymnasium's vector info (a dict of arrays with ``_key`` presence masks, nested dicts batched the same
    way) as one plain dict per sub-env."""
    rows: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    for key, values in info.items():
        if key.startswith("_") or key in ("final_obs", "final_info"):
            continue
        present = info.get("_" + key)
        split = split_info(values, num_envs) if isinstance(values, dict) else None
        for i in range(num_envs):
            if present is None or present[i]:
                rows[i][key] = split[i] if split is not None else values[i]
    return rows
