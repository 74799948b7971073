"""Reinforcement learning with the verifier as reward.

- ``ppo.py``: MaskablePPO (sb3-contrib) on any step env, the ``arena rl`` command;
- ``policy.py``: the board encoder, checkpoints (an SB3 zip with the arena's own ``arena.json`` inside) and the
  safe loader the agent uses (weights only, never unpickling);
- ``vec_env.py``: an SB3 ``VecEnv`` over any Gymnasium vector env (the native ones included);
- ``sb3_agent.py``: ``sb3:PATH``, a trained policy acting through the act/verify protocol;
- ``grpo.py``: TRL's GRPOTrainer with the arena's reward functions (LLM RL).

Everything here needs the ``rl`` extra (``llm-rl`` for ``grpo.py``); importing this package alone needs neither.
"""
