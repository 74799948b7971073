"""Our TRM-Att, TRM-MLP and HRM compute what the official code computes, on the same weights.

The fixtures in ``tests/agents/golden/`` were written once by ``make_golden.py`` from the official repositories
(TinyRecursiveModels e7b6871, HRM 42410da; the commit is in each fixture) at hidden size 64 in fp32: inputs, the
logits, q_halt and q_continue of supervision steps 1-3, the loss of every step and the gradients of one
training step. The weights are not stored: both sides regenerate them from the official parameter names
(``golden_weights.py``); here they go through our converter (``arena_agents.recursive.official``) into our
modules. These tests need neither the official code nor its dependencies.

Tolerances follow the fixture's own rounding noise. A float32 forward pass differs in its last bits from CPU to
CPU (summation order in the matrix kernels), and a random recursive network amplifies that: the fixture's
TRM-MLP amplifies it about 40x per supervision step (max |logit| error 1e-4 at step 1, 0.1 at step 3). So every
comparison allows ten times the difference between our own float32 and float64 passes on this machine (at
least the fixed floor); a wrong layer shows at step 1 at order 1, far above either.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from safetensors import safe_open  # noqa: E402

from arena_agents.recursive.base import SupervisionBatch  # noqa: E402
from arena_agents.recursive.checkpoint import CheckpointError  # noqa: E402
from arena_agents.recursive.models import build_model  # noqa: E402
from arena_agents.recursive.official import convert_state_dict, official_name_to_ours  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
CASES = {"trm_att": "trm", "trm_mlp": "trm", "hrm": "hrm"}
STEPS = 3


def _golden_weights_module():
    spec = importlib.util.spec_from_file_location("golden_weights", GOLDEN / "golden_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden_weights = _golden_weights_module()


def load_case(case: str):
    """(our model with the golden weights, fixture tensors, fixture metadata)."""
    with safe_open(str(GOLDEN / f"{case}.safetensors"), framework="pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no iteration
    official = {
        w["name"]: torch.from_numpy(golden_weights.golden_tensor(w["name"], w["shape"], w["std"]))
        for w in json.loads(meta["weights"])
    }
    arch = json.loads(meta["official_config"])
    config, state = convert_state_dict(CASES[case], arch, official, seq_len=arch["seq_len"])
    model = build_model(CASES[case], config)
    model.load_state_dict(state, strict=True)  # every one of our tensors comes from an official one, and back
    return model, tensors, meta


NOISE_FACTOR = 10.0


def run_steps(model, tensors):
    tokens, ids = tensors["inputs"], tensors["puzzle_identifiers"]
    carry = model.initial_carry(tokens.shape[0])
    outs = []
    with torch.no_grad():
        for _ in range(STEPS):
            out = model(tokens, carry, ids)
            carry = out.carry
            outs.append(out)
    return outs


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixture_records_the_official_commit(case):
    _, _, meta = load_case(case)
    expected = {"trm": "e7b68717f0a6c4cbb4ce6fbef787b14f42083bd9", "hrm": "42410daaaf6ac8b266536d105a6e2362ffe40929"}
    assert meta["official_commit"] == expected[CASES[case]]
    assert meta["made_by"] == "tests/agents/golden/make_golden.py"


@pytest.mark.parametrize("case", sorted(CASES))
def test_parameter_count_equals_the_official_models(case):
    model, _, meta = load_case(case)
    assert model.size() == int(meta["official_parameters"])


def float32_noise(case: str) -> list[float]:
    """Per supervision step, max |logit| difference between our float32 and float64 passes on this machine."""
    model, tensors, _ = load_case(case)
    single = run_steps(model.eval(), tensors)
    double = run_steps(model.double(), tensors)
    return [(a.logits.double() - b.logits.double()).abs().max().item() for a, b in zip(single, double, strict=True)]


def assert_close(ours: torch.Tensor, official: torch.Tensor, floor: float, noise: float, what: str) -> float:
    """max |ours - official| within max(floor, NOISE_FACTOR * noise); returns the tolerance used."""
    tolerance = max(floor, NOISE_FACTOR * noise)
    diff = (ours.double() - official.double()).abs().max().item()
    assert diff <= tolerance, f"{what}: max difference {diff:.2e} > {tolerance:.2e} (float32 noise here {noise:.2e})"
    return tolerance


@pytest.mark.parametrize("case", sorted(CASES))
def test_logits_and_q_of_three_supervision_steps_match_the_official_code(case):
    model, tensors, _ = load_case(case)
    noise = float32_noise(case)
    model.eval()
    for step, out in enumerate(run_steps(model, tensors), start=1):
        expected = tensors[f"logits_step{step}"]
        tolerance = assert_close(out.logits, expected, 1e-4, noise[step - 1], f"step {step} logits")
        # the predicted digit agrees wherever the official top two logits are further apart than the tolerance
        top2 = expected.topk(2, dim=-1).values
        clear = (top2[..., 0] - top2[..., 1]) > 2 * tolerance
        if step == 1:  # before the noise has grown, most predictions are clear (at step 3 TRM-MLP's are not)
            assert clear.float().mean() > 0.5, f"step {step}: too few clear predictions to compare"
        assert torch.equal(out.logits.argmax(-1)[clear], expected.argmax(-1)[clear])
        assert_close(out.q_halt, tensors[f"q_halt_step{step}"], 1e-4, noise[step - 1], f"step {step} q_halt")
        if out.q_continue is not None:  # HRM's continue logit (TRM computes it in its head but never uses it)
            assert_close(out.q_continue, tensors[f"q_continue_step{step}"], 1e-4, noise[step - 1], "q_continue")


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_of_every_step_matches_the_official_act_loss_head(case):
    model, tensors, _ = load_case(case)
    noise = float32_noise(case)
    model.eval()
    labels = tensors["labels"]
    for step, out in enumerate(run_steps(model, tensors), start=1):
        batch = SupervisionBatch(tensors["inputs"], labels, torch.full((4,), step), 16, tensors["puzzle_identifiers"])
        # evaluation mode: the official head adds no continue term, so compare the TRM part for every model
        loss, _ = type(model).__mro__[1].loss(model, out, batch) if CASES[case] == "hrm" else model.loss(out, batch)
        expected = tensors[f"loss_step{step}"]
        # the loss sums per-token terms over the batch; each moves by at most about the logit difference
        floor = 1e-5 * abs(expected.item())
        assert_close(loss.detach().reshape(1), expected, floor, noise[step - 1] * 4, f"step {step} loss")


def training_step(model, tensors):
    """One training-mode step as the official trainer takes it: (loss, {name: grad}), after loss / batch."""
    tokens, ids = tensors["inputs"], tensors["puzzle_identifiers"]
    out = model(tokens, model.initial_carry(tokens.shape[0]), ids)
    batch = SupervisionBatch(tokens, tensors["labels"], torch.ones(4, dtype=torch.long), 16, ids)
    loss, _ = model.loss(out, batch)
    (loss / tokens.shape[0]).backward()
    return loss.detach().double(), {n: p.grad.double() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("case", sorted(CASES))
def test_training_step_loss_and_gradients_match_the_official_code(case):
    """One training step: the loss (HRM's continue target from a second forward included) and every
    parameter's gradient (norm and a fixed random projection) after backpropagating loss / batch, each within
    ten times its own float32 noise (our float32 against our float64 step) or the fixed floor."""
    model, tensors, meta = load_case(case)
    torch.manual_seed(0)
    loss, grads = training_step(model.train(), tensors)
    reference, _, _ = load_case(case)
    torch.manual_seed(0)
    loss64, grads64 = training_step(reference.double().train(), tensors)
    expected_loss = tensors["train_loss_step1"]
    assert_close(loss.reshape(1), expected_loss, 1e-5 * abs(expected_loss.item()), (loss - loss64).abs().item(), "loss")
    for i, name in enumerate(json.loads(meta["grad_names"])):
        ours = official_name_to_ours(CASES[case], name)
        assert ours in grads, name
        grad, grad64 = grads[ours], grads64[ours]
        probe = torch.from_numpy(golden_weights.golden_tensor("probe:" + name, list(grad.shape), 1.0)).double()
        norm = tensors["grad_norm"][i].reshape(1)
        noise = (grad - grad64).norm().item()
        assert_close(grad.norm().reshape(1), norm, 1e-3 * norm.item() + 1e-7, noise, f"{name} gradient norm")
        projection = (grad * probe).sum().reshape(1)
        projection_noise = ((grad - grad64) * probe).sum().abs().item()
        floor = 1e-3 * abs(tensors["grad_probe"][i].item()) + 1e-6 * max(norm.item(), 1e-3)
        assert_close(projection, tensors["grad_probe"][i].reshape(1), floor, projection_noise, f"{name} projection")
    emb, emb64 = grads["inputs.puzzle_emb"], grads64["inputs.puzzle_emb"]
    expected_emb = tensors["puzzle_emb_grad"]
    floor = 1e-3 * expected_emb.abs().max().item()
    assert_close(emb, expected_emb, floor, (emb - emb64).abs().max().item(), "puzzle embedding gradient")


def test_an_official_checkpoint_file_converts_into_a_working_agent(tmp_path):
    """The official trainer saves ``torch.save(model.state_dict())`` of the compiled loss head; converted, it
    loads as ``trm:PATH`` and answers what the official model answers."""
    from arena_agents.recursive.official import convert_checkpoint
    from arena_agents.registry import make_agent
    from arena_envs.protocol import Puzzle

    model, tensors, meta = load_case("trm_mlp")
    official = {
        "_orig_mod.model." + w["name"]: torch.from_numpy(golden_weights.golden_tensor(w["name"], w["shape"], w["std"]))
        for w in json.loads(meta["weights"])
    }
    torch.save(official, tmp_path / "step_100")
    arch = json.loads(meta["official_config"])
    out = convert_checkpoint(
        "trm", tmp_path / "step_100", arch, tmp_path / "model.safetensors", family="sudoku", grid_shape=(9, 9)
    )
    agent = make_agent(f"trm:{out},steps=3,device=cpu")
    tokens = tensors["inputs"][1:2]  # blank 1, digit d -> d + 1
    puzzle = Puzzle(id="golden/1", family="sudoku", grid=(tokens - 1).reshape(9, 9).numpy().astype("int8"), meta={})
    (candidate,) = agent.act([puzzle], 1)[0]
    # the agent answers with the shared puzzle embedding (id 0); the converted model, run directly, must agree
    outs = run_steps(model.eval(), {"inputs": tokens, "puzzle_identifiers": torch.zeros(1, dtype=torch.long)})
    assert (candidate.answer.reshape(-1) + 1 == outs[-1].logits.argmax(-1)[0].clamp(1, 10).numpy()).all()
    (tmp_path / "bad").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        convert_checkpoint(
            "trm", tmp_path / "bad", arch, tmp_path / "x.safetensors", family="sudoku", grid_shape=(9, 9)
        )
