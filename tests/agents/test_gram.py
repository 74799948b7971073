"""GRAM: the stochastic latent transition, its KL, the value head, the trainer's noise and the ``gram:`` agent.

The contract every deep-supervision family keeps (shapes, a loss reaching every parameter, exact resume,
checkpoint round trip) is in ``test_model_families.py`` and ``test_train.py``; the learning test is in
``test_gram_learns.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive import checkpoint as ckpt  # noqa: E402
from arena_agents.recursive.base import SupervisionBatch  # noqa: E402
from arena_agents.recursive.families import FAMILIES  # noqa: E402
from arena_agents.recursive.gram import GRAM, GRAMConfig, gaussian_kl  # noqa: E402
from arena_agents.recursive.gram_agent import select_trajectory  # noqa: E402
from arena_agents.recursive.models import model_config  # noqa: E402
from arena_agents.recursive.train import Trainer, make_train_config, train  # noqa: E402
from arena_agents.recursive.trm import TRM, TRMConfig  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.config import ConfigError  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402

SMALL = {"vocab_size": 6, "seq_len": 16, "hidden": 32, "heads": 2, "n_latent": 2, "t_cycles": 2, "max_steps": 3}
SMALL["prefix_len"] = 2


def small_gram(**overrides) -> GRAM:
    torch.manual_seed(0)
    return GRAM(GRAMConfig(**{**SMALL, **overrides}))


def batch(model: GRAM, b: int = 4) -> SupervisionBatch:
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(1, 6, (b, 16), generator=g)
    labels = torch.randint(2, 6, (b, 16), generator=g)
    return SupervisionBatch(tokens, labels, torch.ones(b, dtype=torch.long), model.config.max_steps)


def noise_for(model: GRAM, b: int = 4, seed: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, model.config.prefix_len + 16, model.config.hidden, generator=g)


def test_parameters_are_the_trms_plus_the_two_gaussian_heads_and_the_value_head():
    gram = small_gram()
    trm = TRM(TRMConfig(**SMALL))
    d = SMALL["hidden"]
    prior, posterior, value = (d * 2 * d + 2 * d), (2 * d * 2 * d + 2 * d), (2 * d + 1)
    assert gram.size() - trm.size() == gram.extra_parameters() == prior + posterior + value


def test_bad_settings_are_one_config_error():
    for bad, message in (
        ({"value_target": "reward"}, "value_target"),
        ({"sigma_init": 0.0}, "sigma_init"),
        ({"kl_weight": -1.0}, "kl_weight"),
        ({"posterior_init_gain": -0.1}, "posterior_init_gain"),
    ):
        with pytest.raises(ConfigError, match=message):
            model_config("gram", {**SMALL, **bad})


def test_the_closed_form_kl_equals_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu_q, mu_p, ls_q, ls_p = (torch.randn(5, 7, generator=g) for _ in range(4))
    q = torch.distributions.Normal(mu_q, ls_q.exp())
    p = torch.distributions.Normal(mu_p, ls_p.exp())
    assert torch.allclose(gaussian_kl(mu_q, ls_q, mu_p, ls_p), torch.distributions.kl_divergence(q, p), atol=1e-5)
    assert torch.equal(gaussian_kl(mu_q, ls_q, mu_q, ls_q), torch.zeros_like(mu_q))


def test_initial_heads_give_a_small_finite_kl_and_the_chosen_sigma():
    """The delicate initialisation: sigma starts at sigma_init everywhere, the KL near 0.005 per element."""
    for sigma_init in (0.1, 0.5):
        model = small_gram(sigma_init=sigma_init)
        b = batch(model)
        out = model(b.inputs, model.initial_carry(4), labels=b.labels, noise=noise_for(model))
        assert torch.allclose(out.extras["prior_sigma"], torch.full((4,), sigma_init))
        kl_per_element = out.extras["kl"] / model.config.hidden
        assert torch.isfinite(out.extras["kl"]).all() and (kl_per_element > 0).all()
        assert (kl_per_element < 0.02).all(), kl_per_element
        loss, sums = model.loss(out, b)
        assert torch.isfinite(loss) and float(sums["value_mse"]) == pytest.approx(4 * 0.25, abs=0.2)


def test_with_zero_noise_an_untrained_gram_is_its_trm():
    """The prior's weights start at zero, so eps = its mean = 0 without noise: the same steps as the TRM."""
    gram = small_gram()
    trm = TRM(TRMConfig(**SMALL))
    missing = trm.load_state_dict(gram.state_dict(), strict=False)
    assert not missing.missing_keys
    tokens = batch(gram).inputs
    a, b = gram(tokens, gram.initial_carry(4)), trm(tokens, trm.initial_carry(4))
    assert torch.equal(a.logits, b.logits) and torch.equal(a.q_halt, b.q_halt)


def test_noise_changes_the_step_and_the_posterior_sees_the_answer():
    model = small_gram(sigma_init=0.5)
    b = batch(model)
    carry = model.initial_carry(4)
    base = model(b.inputs, carry).logits
    noisy = model(b.inputs, carry, noise=noise_for(model)).logits
    assert not torch.allclose(base, noisy)
    other = b.labels.roll(1, dims=1)
    with_labels = model(b.inputs, carry, labels=b.labels, noise=noise_for(model)).logits
    with_other = model(b.inputs, carry, labels=other, noise=noise_for(model)).logits
    assert not torch.allclose(with_labels, with_other)  # the posterior's eps depends on y*


def test_gradient_reaches_both_heads_through_the_last_cycle_only():
    model = small_gram()
    b = batch(model)
    out = model(b.inputs, model.initial_carry(4), labels=b.labels, noise=noise_for(model))
    assert not any(c.requires_grad for c in out.carry)  # the carry is detached between supervision steps
    loss, _ = model.loss(out, b)
    loss.backward()
    for head in (model.prior, model.posterior, model.value_head):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())


def test_kl_weight_warms_up_linearly():
    model = small_gram(kl_weight=0.2, kl_warmup=10)
    assert [model.kl_weight_at(s) for s in (0, 4, 9, 50)] == pytest.approx([0.02, 0.1, 0.2, 0.2])
    assert small_gram(kl_weight=0.2).kl_weight_at(0) == 0.2


def test_value_targets():
    """exact: 1 only for a sequence entirely right; token: its share of right tokens."""
    for target, expected in (("exact", [1.0, 0.0]), ("token", [1.0, 0.75])):
        model = small_gram(value_target=target, value_loss_weight=1.0, kl_weight=0.0, halt_loss_weight=0.0)
        labels = torch.tensor([[2, 3, 4, 5] * 4, [2, 3, 4, 5] * 4])
        logits = torch.nn.functional.one_hot(labels, 6).float() * 10
        logits[1, :4] = torch.nn.functional.one_hot(torch.tensor([1, 1, 1, 1]), 6).float() * 10  # 4 of 16 wrong
        value = torch.zeros(2)  # sigmoid = 0.5
        out = model(labels, model.initial_carry(2))._replace(
            logits=logits, extras={"value": value, "prior_sigma": value}
        )
        b = SupervisionBatch(labels, labels, torch.ones(2, dtype=torch.long), 3)
        _, sums = model.loss(out, b)
        assert float(sums["value_mse"]) == pytest.approx(sum((0.5 - t) ** 2 for t in expected))


def test_the_trainers_noise_is_a_pure_function_of_seed_step_and_slot(tmp_path):
    config = make_train_config("gram", "arena/SudokuExtreme-v0", {**_TINY, "global_batch": 8}, {"size": 4, "count": 40})
    trainer = Trainer(config, tmp_path / "run")
    first = trainer._noise()
    assert first.shape == (8, trainer.carry[-1].shape[1], trainer.carry[-1].shape[2])
    assert torch.equal(first, trainer._noise())  # same step, same draw
    trainer.step += 1
    assert not torch.equal(first, trainer._noise())
    trainer.step -= 1
    trainer.first_slot, trainer.local_batch = 4, 4  # the second of two processes sees the other half
    assert torch.equal(trainer._noise(), first[4:])


_TINY = {  # the family's own test size, a few milliseconds per step
    **FAMILIES["gram"].test_options,
    "lr": 1e-3,
    "lr_warmup": 2,
    "log_every": 1,
    "eval_every": 1000,
    "eval_limit": 8,
}


def test_training_logs_kl_value_and_sigma(tmp_path):
    config = make_train_config("gram", "arena/SudokuExtreme-v0", {**_TINY, "global_batch": 8, "steps": 3}, {"size": 4})
    result = train(config, tmp_path / "run")
    logged = [e for e in result.log if "loss" in e]
    assert len(logged) == 3
    for key in ("train_kl", "train_value_mse", "train_prior_sigma"):
        assert all(np.isfinite(e[key]) for e in logged), key


def test_select_trajectory():
    a, b, c = np.array([1, 2]), np.array([3, 4]), np.array([1, 2])
    assert select_trajectory([a, b, c], [0.2, 0.9, 0.4], "value") == (1, 0.9)
    assert select_trajectory([a, b, c], [0.2, 0.9, 0.4], "first") == (0, 0.2)
    best, q = select_trajectory([a, b, c], [0.2, 0.9, 0.4], "vote")  # [1, 2] twice beats [3, 4] once
    assert best == 0 and q == pytest.approx(0.3)
    best, q = select_trajectory([a, b], [0.2, 0.9], "vote")  # a tie in count: the higher mean value wins
    assert best == 1 and q == pytest.approx(0.9)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    run = tmp_path_factory.mktemp("gram") / "run"
    config = make_train_config(
        "gram", "arena/SudokuExtreme-v0", {**_TINY, "global_batch": 8, "steps": 2, "sigma_init": 0.5}, {"size": 4}
    )
    train(config, run)
    return run


def test_the_agent_samples_n_trajectories_per_candidate_seeded_per_puzzle_and_sample(checkpoint):
    puzzles = list(make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=4, count=20).puzzles)[:3]
    agent = make_agent(f"gram:{checkpoint},n=3,device=cpu")
    assert agent.name == "gram" and agent.config.n == 3 and agent.config.select == "value"
    first = agent.act(puzzles, 4)
    assert [len(c) for c in first] == [4, 4, 4]
    single = agent.model.nfe_per_step() * agent.steps
    for cands in first:
        for c in cands:
            assert c.answer.shape == (4, 4) and 0.0 <= c.q <= 1.0 and c.cost.nfe == 3 * single
    again = agent.act(puzzles[::-1], 4)[::-1]  # another batch order: the same candidates
    for x, y in zip(first, again):
        assert all(np.array_equal(a.answer, b.answer) and a.q == b.q for a, b in zip(x, y))
    other = make_agent(f"gram:{checkpoint},n=3,device=cpu,seed=1").act(puzzles, 4)
    assert any(a.q != b.q for x, y in zip(first, other) for a, b in zip(x, y))
    # temperature 0: no noise, every trajectory is the prior mean's, so every candidate is the same
    for cands in make_agent(f"gram:{checkpoint},n=2,device=cpu,temperature=0").act(puzzles[:2], 3):
        assert all(np.array_equal(c.answer, cands[0].answer) and c.q == cands[0].q for c in cands)
    # n = 1, select = first: each candidate is one trajectory with its value as q
    one = make_agent(f"gram:{checkpoint},device=cpu,select=first").act(puzzles[:1], 2)[0]
    assert len(one) == 2 and one[0].cost.nfe == single


def test_the_agent_refuses_a_trm_checkpoint_and_bad_options(tmp_path, checkpoint):
    with pytest.raises(ConfigError, match="select"):
        make_agent(f"gram:{checkpoint},select=best")
    with pytest.raises(ConfigError, match="n must be"):
        make_agent(f"gram:{checkpoint},n=0")
    with pytest.raises(ConfigError, match="temperature"):
        make_agent(f"gram:{checkpoint},temperature=-1")
    weights = ckpt.load_weights(checkpoint / ckpt.MODEL_FILE)
    assert weights.kind == "gram"
    trm_run = tmp_path / "trm"
    train(
        make_train_config("trm", "arena/SudokuExtreme-v0", {**_TINY, "global_batch": 8, "steps": 1}, {"size": 4}),
        trm_run,
    )
    with pytest.raises(ConfigError, match="trm checkpoint"):
        make_agent(f"gram:{trm_run}")


def test_config_fields_are_documented_defaults():
    fields = {f.name: f.default for f in dataclasses.fields(GRAMConfig)}
    assert fields["kl_weight"] == 1.0 and fields["sigma_init"] == 0.1 and fields["value_loss_weight"] == 0.5
    assert fields["kl_warmup"] == 0 and fields["value_target"] == "exact" and fields["posterior_init_gain"] == 0.01
