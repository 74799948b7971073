"""Every registered model family keeps the contract the trainer and the agents rely on.

The tests loop over ``arena_agents.recursive.families.FAMILIES``: registering a family is enough to get it
checked here. Families trained by the deep-supervision trainer must be ``RecursiveModel``s (shapes, a backward
pass through their own loss, their halting rule, cost estimates, a checkpoint round trip); every family must
be an agent, and every trainable one an ``arena train`` choice.
"""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.base import RecursiveModel, StepOutput, SupervisionBatch  # noqa: E402
from arena_agents.recursive.checkpoint import load_weights, save_weights  # noqa: E402
from arena_agents.recursive.families import (  # noqa: E402
    DEEP_SUPERVISION,
    FAMILIES,
    families_trained_by,
    get_family,
    trainable_families,
)
from arena_agents.recursive.models import build_model, model_config  # noqa: E402
from arena_agents.registry import AGENTS  # noqa: E402
from arena_envs.config import ConfigError  # noqa: E402

VOCAB, SEQ, BATCH = 6, 16, 3


def tiny(kind: str) -> RecursiveModel:
    torch.manual_seed(0)
    config = model_config(kind, {**FAMILIES[kind].test_options, "vocab_size": VOCAB, "seq_len": SEQ})
    return build_model(kind, config)


def batch_for(model: RecursiveModel, steps: int = 1) -> SupervisionBatch:
    tokens = torch.randint(1, VOCAB, (BATCH, SEQ))
    return SupervisionBatch(
        tokens, torch.randint(2, VOCAB, (BATCH, SEQ)), torch.full((BATCH,), steps), model.config.max_steps
    )


def training_inputs(model: RecursiveModel, batch: SupervisionBatch) -> dict[str, torch.Tensor]:
    """What the trainer passes beyond tokens and carry (GRAM: the labels and standard normal noise)."""
    shape = (BATCH, model.config.prefix_len + SEQ, model.config.hidden)
    return model.training_inputs(batch, lambda: torch.randn(shape))


@pytest.mark.parametrize("kind", families_trained_by(DEEP_SUPERVISION))
def test_a_supervision_step_has_the_shapes_the_trainer_expects(kind):
    model = tiny(kind)
    assert isinstance(model, RecursiveModel) and isinstance(model.config, model.config_class)
    batch = batch_for(model)
    carry = model.initial_carry(BATCH)
    assert len(carry) == len(model.carry_buffers) == len(model.latent_names)
    out = model(batch.inputs, carry, **training_inputs(model, batch))
    assert isinstance(out, StepOutput)
    length = model.config.prefix_len + SEQ
    assert all(c.shape == (BATCH, length, model.config.hidden) and not c.requires_grad for c in out.carry)
    assert out.logits.shape == (BATCH, SEQ, VOCAB) and out.q_halt.shape == (BATCH,)
    assert out.q_halt.dtype == torch.float32
    halt = model.wants_halt(out)
    assert halt.shape == (BATCH,) and halt.dtype == torch.bool


@pytest.mark.parametrize("kind", families_trained_by(DEEP_SUPERVISION))
def test_its_loss_is_a_finite_sum_that_reaches_every_trained_parameter(kind):
    model = tiny(kind)
    batch = batch_for(model)
    out = model(batch.inputs, model.initial_carry(BATCH), **training_inputs(model, batch))
    loss, sums = model.loss(out, batch)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert {"token_accuracy", "exact_accuracy"} <= set(sums)
    assert all(0 <= float(sums[k]) <= BATCH for k in ("token_accuracy", "exact_accuracy"))  # sums, not means
    loss.backward()
    untouched = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    # The puzzle embedding starts at zero and the q head's weights at zero; both still get gradient.
    assert untouched == [], untouched


@pytest.mark.parametrize("kind", families_trained_by(DEEP_SUPERVISION))
def test_cost_estimates_are_positive_and_scale_with_depth(kind):
    model = tiny(kind)
    assert model.nfe_per_step() >= 1 and model.flops_per_step() > 0 and model.size() > 0
    assert 1 <= model.gradient_nfe_per_step() <= model.nfe_per_step()
    assert model.flops_per_step() < model.train_flops_per_step() <= 4 * model.flops_per_step()


@pytest.mark.parametrize("kind", families_trained_by(DEEP_SUPERVISION))
def test_checkpoint_round_trip_gives_the_same_outputs(kind, tmp_path):
    model = tiny(kind).eval()
    path = tmp_path / "m.safetensors"
    save_weights(path, kind, dataclasses.asdict(model.config), model.state_dict(), family="sudoku", grid_shape=[4, 4])
    weights = load_weights(path)
    again = build_model(weights.kind, model_config(weights.kind, weights.model_config)).eval()
    again.load_state_dict(weights.state)
    tokens = torch.randint(1, VOCAB, (2, SEQ))
    a, qa = model.solve(tokens)
    b, qb = again.solve(tokens)
    assert torch.equal(a, b) and torch.equal(qa, qb)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_is_an_agent_and_trainable_ones_are_train_choices(name):
    family = FAMILIES[name]
    assert AGENTS[name].kind == "recursive" and AGENTS[name].config_cls is family.agent_config
    assert (name in trainable_families()) == family.trainable == (family.train_config is not None)
    assert all(FAMILIES[kind].network is not None for kind in family.loads)


def test_unknown_families_are_one_clear_error():
    with pytest.raises(ConfigError, match="unknown trainable model 'ptrm'"):
        get_family("ptrm", trainable=True)  # test-time only
    with pytest.raises(ConfigError, match="choose one of"):
        model_config("gpt", {})
