"""GRPO (TRL's ``GRPOTrainer``) on a language model, rewarded by an environment's verifier.

Laid out like cleanrl's files: the config (a docstring under each field), ``make_dataset`` (the analogue of
``make_env``), the model, then the loop, which is TRL's ``trainer.train()``.

Data flow, per optimizer step:

    prompts_per_step rows of arena export's data (the LLM agent's request messages, puzzle_id, ...)
    --chat template--> token ids --policy.generate x num_generations--> completions (text)
    --verifier_reward: read the JSON answer, env.verify_batch--> rewards in {0, 1} (or partial credit)
    --group-normalised advantages (reward - group mean) / group std--> clipped policy-gradient loss (+ beta * KL)

Usage (``python -m arena_agents.rl.grpo --help``)::

    python -m arena_agents.rl.grpo --env arena/SudokuExtreme-v0 -o size=4 -s model=PATH -s steps=200 --out runs/grpo

``model=tiny`` builds a randomly initialised Llama of about 0.16M parameters and a byte-level tokenizer on the spot
(no download): a smoke test of the pipeline that learns nothing useful. Metrics (TRL's names, one
line per logging step in ``OUT/log.jsonl``): ``rewards/verifier_reward/mean`` (the solve rate of the
sampled completions), ``reward_std``, ``frac_reward_zero_std`` (groups that teach nothing: all right or all wrong),
``completions/mean_length``, ``loss``, ``kl`` (when ``beta > 0``), ``entropy``, and the reward's own
``verifier_reward/abstained`` and ``verifier_reward/unparseable`` (shares of replies with no answer to judge).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena_envs.config import ConfigError, build_config, parse_pairs

TINY = "tiny"


@dataclass(frozen=True)
class ArenaGRPOConfig:
    """The run's settings (``-s KEY=VALUE``); :meth:`trl_config` turns them into TRL's ``GRPOConfig``."""

    env_id: str = "arena/SudokuExtreme-v0"
    """Any env (``arena envs``; a step env means its answer env's puzzles); the prompts are the LLM agent's."""
    env_options: dict[str, Any] = field(default_factory=dict)
    """The env's data options (``size``, ``data``, ``count``, ``seed``, ...), as for ``arena export``."""
    split: str = "train"
    """The split whose puzzles are the prompts."""
    limit: int | None = None
    """Only the first ``limit`` puzzles of the split (None: all)."""
    model: str = TINY
    """A local Hugging Face causal LM folder (its tokenizer needs a chat template), or ``tiny``."""
    steps: int = 100
    """Optimizer steps."""
    prompts_per_step: int = 2
    """Puzzles per optimizer step; each gets ``num_generations`` completions."""
    num_generations: int = 8
    """Completions per prompt: the group whose mean reward is the baseline (GRPO needs at least 2)."""
    max_completion_length: int = 256
    """Tokens per completion; a truncated completion is scored as written (usually unreadable: 0)."""
    learning_rate: float = 1e-6
    """AdamW's learning rate (TRL's default; a tiny random model needs far more to move, e.g. 1e-3)."""
    temperature: float = 1.0
    """Sampling temperature of the completions."""
    beta: float = 0.0
    """KL coefficient to the initial model (TRL's default, 0, loads no reference model)."""
    partial: bool = False
    """Partial credit for rejected answers (docs/rl-llm.md); off: the reward is 1 if solved, else 0."""
    seed: int = 0
    """Seeds the tiny model's weights, TRL's sampling and the data order."""
    use_cpu: bool = False
    """Train on the CPU even when a GPU is present."""
    save_model: bool = True
    """Write the final model and tokenizer to the output folder."""
    logging_steps: int = 1
    """Optimizer steps between log lines."""

    def __post_init__(self) -> None:
        from arena_envs.registry import TASKS

        if self.env_id not in TASKS:
            raise ConfigError(f"unknown env {self.env_id!r}; registered: {', '.join(sorted(TASKS))}")
        for name in ("steps", "prompts_per_step", "max_completion_length", "logging_steps"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_generations < 2:
            raise ConfigError(f"num_generations must be >= 2 (GRPO compares completions), got {self.num_generations}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit must be >= 1 or None, got {self.limit}")
        if not (0 < self.learning_rate < 1 and self.temperature > 0 and self.beta >= 0):
            raise ConfigError(
                f"need 0 < learning_rate < 1, temperature > 0, beta >= 0; got {self.learning_rate}, "
                f"{self.temperature}, {self.beta}"
            )
        if "split" in self.env_options:
            raise ConfigError("give the split as split=..., not as an env option")

    def trl_config(self, out: Path) -> Any:
        """TRL's ``GRPOConfig`` for these settings: one generation batch per optimizer step, no evaluation."""
        from trl import GRPOConfig

        return GRPOConfig(
            output_dir=str(out),
            max_steps=self.steps,
            per_device_train_batch_size=self.prompts_per_step * self.num_generations,  # completions per step
            gradient_accumulation_steps=1,
            num_generations=self.num_generations,
            max_completion_length=self.max_completion_length,
            learning_rate=self.learning_rate,
            temperature=self.temperature,
            beta=self.beta,
            seed=self.seed,
            use_cpu=self.use_cpu,
            logging_steps=self.logging_steps,
            save_strategy="no",  # the final model is saved by train(); checkpoints of a smoke run are waste
            report_to="none",
            disable_tqdm=True,
        )


# ---------------------------------------------------------------------------------------------------------------
# data: the rows arena export writes, and the reward that scores them


def make_dataset(config: ArenaGRPOConfig) -> Any:
    """The prompts as a ``datasets.Dataset``: arena export's rows (the LLM agent's messages and ``puzzle_id``)."""
    from datasets import Dataset

    from arena_agents.llm.rl_data import load_split, puzzle_rows

    puzzle_set = load_split(config.env_id, config.split, dict(config.env_options))
    return Dataset.from_list(puzzle_rows(puzzle_set, config.split, dict(config.env_options), config.limit))


def make_reward(config: ArenaGRPOConfig) -> Any:
    from arena_envs.rewards import verifier_reward

    return verifier_reward(config.env_id, split=config.split, partial=config.partial, **config.env_options)


# ---------------------------------------------------------------------------------------------------------------
# model: a local checkpoint, or a tiny random one built here

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_tokenizer() -> Any:
    """A byte-level tokenizer with no merges (one token per byte, so any text encodes) and a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {symbol: i for i, symbol in enumerate(sorted(alphabet))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", eos_token="<|im_end|>", bos_token="<|im_start|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model(tokenizer: Any, seed: int = 0) -> Any:
    """A 2-layer Llama, hidden size 64, about 0.16M parameters, randomly initialised from ``seed``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32768,  # rotary positions: long ARC prompts fit, and cost nothing until used
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    return LlamaForCausalLM(config)


def make_model(config: ArenaGRPOConfig) -> tuple[Any, Any]:
    """(model, tokenizer): ``tiny`` is built here; anything else is read from a local folder."""
    if config.model == TINY:
        tokenizer = tiny_tokenizer()
        return tiny_model(tokenizer, config.seed), tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not Path(config.model).expanduser().is_dir():
        raise ConfigError(f"model {config.model!r} is not a local folder; give a model folder or model=tiny")
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    if tokenizer.chat_template is None:
        raise ConfigError(f"{config.model}: the tokenizer has no chat template; the prompts are chat messages")
    return AutoModelForCausalLM.from_pretrained(config.model), tokenizer


# ---------------------------------------------------------------------------------------------------------------
# the loop


@dataclass(frozen=True)
class TrainResult:
    out: Path
    log: list[dict[str, Any]]  # TRL's log history: one dict per logging step
    reward_calls: int  # batches the verifier scored
    reward_metric: str  # the log's key for the mean reward, e.g. rewards/verifier_reward/mean


class _CountingReward:
    """The reward, counting its calls (TRL reads ``__name__`` for its metric names)."""

    def __init__(self, reward: Any) -> None:
        self.reward = reward
        self.calls = 0
        self.__name__ = reward.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> list[float]:
        self.calls += 1
        return self.reward(*args, **kwargs)


def train(config: ArenaGRPOConfig, out: str | Path) -> TrainResult:
    """Run GRPO; writes ``arena_grpo.json`` (the config), ``log.jsonl`` and (``save_model``) the model into ``out``."""
    from trl import GRPOTrainer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "arena_grpo.json").write_text(json.dumps(dataclasses.asdict(config), indent=2, sort_keys=True) + "\n")

    # ARENA LOGIC: the prompts, the verifier as reward, the policy
    dataset = make_dataset(config)
    reward = _CountingReward(make_reward(config))
    model, tokenizer = make_model(config)

    # ALGO LOGIC: TRL's GRPO loop (generate, reward, group-normalise, clipped policy gradient)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=config.trl_config(out),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()

    log = list(trainer.state.log_history)
    (out / "log.jsonl").write_text("".join(json.dumps(record) + "\n" for record in log))
    if config.save_model:
        trainer.save_model(str(out))
        tokenizer.save_pretrained(str(out))
    return TrainResult(out, log, reward.calls, f"rewards/{reward.__name__}/mean")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m arena_agents.rl.grpo``: the config from the command line, then :func:`train`."""
    parser = argparse.ArgumentParser(prog="python -m arena_agents.rl.grpo", description=__doc__.split("\n")[0])
    parser.add_argument("--env", default=ArenaGRPOConfig.env_id, help="environment id (an answer env)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--data", default=None, help="bundled | generated | hub | PATH")
    parser.add_argument("--env-option", "-o", action="append", default=[], metavar="KEY=VALUE", help="data options")
    parser.add_argument(
        "--set", "-s", action="append", default=[], metavar="KEY=VALUE", help="a setting of ArenaGRPOConfig"
    )
    parser.add_argument("--out", default="runs/grpo", help="output folder (default runs/grpo)")
    args = parser.parse_args(argv)
    try:
        env_options = parse_pairs(args.env_option, "--env-option")
        if args.data is not None:
            env_options["data"] = args.data
        settings = {
            "env_id": args.env,
            "split": args.split,
            "env_options": env_options,
            **parse_pairs(args.set, "--set"),
        }
        config = build_config(ArenaGRPOConfig, settings, what="ArenaGRPOConfig")
        result = train(config, args.out)
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"grpo: error: {exc}", file=sys.stderr)
        return 2
    key = result.reward_metric
    rewards = [record[key] for record in result.log if key in record]
    print(f"run: {result.out} ({len(rewards)} logged steps, last {key} {rewards[-1] if rewards else '-'})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
