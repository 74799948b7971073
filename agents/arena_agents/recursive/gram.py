"""GRAM (arXiv 2605.19376): TRM with a trained stochastic latent transition and a learned value head (LPRM).

PTRM adds fixed Gaussian noise to a deterministic TRM at test time; GRAM learns the noise. Each supervision step
draws a Gaussian term eps and adds it to the reasoning latent z before the step's gradient-carrying cycle:

    u = z                                                   [B, L, D], the latent after the no-grad cycles
    prior      p(eps | u)      = N(mu_p(u), sigma_p(u)^2)   per token and channel (``prior`` head)
    posterior  q(eps | u, y*)  = N(mu_q, sigma_q^2)         also sees the embedded answer y* (training only)
    eps = mu + sigma * n,  n ~ N(0, I)                      reparameterised: q while training, p at test time
    z <- z + eps;  (y, z) <- one TRM cycle (n latent updates, one answer update), with gradient

and the loss adds beta * KL(q || p) (closed form, summed over D, averaged over L) to TRM's token CE and halting
BCE: the ELBO of the answer with eps as the latent variable. A value head v = sigmoid(w . [y_0 ; mean_L z] + b)
(LPRM) is trained by MSE to predict whether the trajectory's answer is right, and picks the best of N sampled
trajectories at test time (:mod:`arena_agents.recursive.gram_agent`).

Choices the paper leaves open, each a config field (defaults below):

* **Where eps enters.** Before the last (gradient) cycle of each supervision step, so that the truncated
  surrogate's gradient reaches the prior and posterior heads; noise added before the no-grad cycles would get
  no gradient at all. The first T-1 cycles of the next step see it through the carry.
* **Head initialisation** (the paper calls sigma's delicate): both heads start at mean 0 and sigma =
  ``sigma_init`` (0.1; the latents are RMS-normalised, so that is 10% of an element): the prior with zero
  weights, the posterior with ``posterior_init_gain`` (0.01) times the LeCun init, so q is close to p but not
  equal (the KL starts near 0.005 per element; with q = p exactly the prior would get no gradient at step 0)
  and the network starts as a TRM with small noise. log sigma is clamped to [-7, 2].
* **KL weight and schedule:** ``kl_weight`` beta = 1 (the ELBO itself), reached linearly over ``kl_warmup``
  optimiser steps (0 = from the start). A smaller beta lets the posterior pass the answer to the network through
  eps, which the prior cannot do at test time: measured on 4x4 Sudoku with the ``gram-sudoku4-cpu`` recipe,
  beta = 0.1 gave 0.839 pass@1 and 0.900 best-Q@8 with the prior's sigma drifting to 0.65, beta = 1 gave
  0.988 and 0.997.
* **Value target.** The trainer advances each slot one supervision step per optimiser step, so a trajectory's
  final outcome is unknown when a step is trained. The target is the outcome of the *current* step's answer
  (``value_target="exact"``: 1 if every token is right; ``"token"``: the share of right tokens), which is the
  answer the trajectory returns if it stops here. Selection reads v only after the last step, where this target
  is exactly the trajectory's final correctness; no bootstrapped estimate (HRM's Q-continue style) is needed,
  and none of its bias enters. ``value_loss_weight`` = 0.5, as TRM's halting loss.
* **Without noise input** (the trainer's own held-out evaluation, ``solve``), eps is the prior mean: one
  deterministic trajectory.

TRM's halting head and loss are kept unchanged. Shapes: B batch, P prefix, S grid tokens, L = P + S, D hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from arena_agents.recursive.base import StepOutput, SupervisionBatch
from arena_agents.recursive.layers import Linear
from arena_agents.recursive.losses import IGNORE_INDEX, supervision_loss
from arena_agents.recursive.trm import TRM, TRMConfig

LOG_SIGMA_RANGE = (-7.0, 2.0)
VALUE_TARGETS = ("exact", "token")


@dataclass(frozen=True)
class GRAMConfig(TRMConfig):
    sigma_init: float = 0.1  # sigma of both heads at initialisation
    posterior_init_gain: float = 0.01  # the posterior's weights start at this times LeCun init; the prior's at zero
    kl_weight: float = 1.0  # beta: weight of KL(q || p) in the loss (1 = the ELBO)
    kl_warmup: int = 0  # optimiser steps over which beta rises linearly from 0 (0 = constant)
    value_loss_weight: float = 0.5  # weight of the value head's MSE
    value_target: str = "exact"  # "exact": the current answer is entirely right; "token": its share of right tokens

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.sigma_init > 0:
            raise ValueError(f"sigma_init must be > 0, got {self.sigma_init}")
        if self.posterior_init_gain < 0:
            raise ValueError(f"posterior_init_gain must be >= 0, got {self.posterior_init_gain}")
        if self.kl_weight < 0 or self.value_loss_weight < 0 or self.kl_warmup < 0:
            raise ValueError("kl_weight, value_loss_weight and kl_warmup must be >= 0")
        if self.value_target not in VALUE_TARGETS:
            raise ValueError(f"value_target must be one of {VALUE_TARGETS}, got {self.value_target!r}")


def gaussian_head(fan_in: int, dim: int, sigma_init: float, weight_gain: float = 0.0) -> nn.Linear:
    """fan_in -> (mu, log sigma), [.., 2D]: mu bias 0, log-sigma bias log(sigma_init), weights truncated LeCun
    normal times ``weight_gain`` (0 = zero weights)."""
    head = Linear(fan_in, 2 * dim, bias=True)
    with torch.no_grad():
        head.weight.mul_(weight_gain)
        head.bias.zero_()
        head.bias[dim:] = math.log(sigma_init)
    return head


def split_gaussian(stats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[.., 2D] -> (mu, log sigma), each [.., D], log sigma clamped to LOG_SIGMA_RANGE; in fp32."""
    mu, log_sigma = stats.float().chunk(2, dim=-1)
    return mu, log_sigma.clamp(*LOG_SIGMA_RANGE)


def gaussian_kl(
    mu_q: torch.Tensor, log_sigma_q: torch.Tensor, mu_p: torch.Tensor, log_sigma_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) per element, in closed form."""
    var_ratio = torch.exp(2 * (log_sigma_q - log_sigma_p))
    mean_term = (mu_q - mu_p) ** 2 * torch.exp(-2 * log_sigma_p)
    return log_sigma_p - log_sigma_q + 0.5 * (var_ratio + mean_term - 1)


class GRAM(TRM):
    config_class = GRAMConfig

    def __init__(self, config: GRAMConfig) -> None:
        super().__init__(config)
        d = config.hidden
        self.prior = gaussian_head(d, d, config.sigma_init)  # u -> (mu_p, log sigma_p)
        # [u ; e(y*)] -> (mu_q, log sigma_q)
        self.posterior = gaussian_head(2 * d, d, config.sigma_init, config.posterior_init_gain)
        self.value_head = nn.Linear(2 * d, 1)  # [y_0 ; mean_L z] -> value logit
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)

    def answer_embedding(self, labels: torch.Tensor) -> torch.Tensor:
        """e(y*): [B, L, D], the labels through the token embedding (unscored tokens as PAD, zero prefix)."""
        tokens = torch.where(labels == IGNORE_INDEX, torch.zeros_like(labels), labels)
        return self.inputs(tokens)

    def transition_noise(
        self, z: torch.Tensor, labels: torch.Tensor | None, noise: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """(eps [B, L, D], KL per sample [B] or None, prior sigma [B, L, D]) for latent u = z.

        With labels: eps from the posterior and its KL to the prior. Without: eps from the prior, its mean when
        ``noise`` is None."""
        mu_p, log_sigma_p = split_gaussian(self.prior(z))
        kl = None
        if labels is not None:
            mu_q, log_sigma_q = split_gaussian(self.posterior(torch.cat([z, self.answer_embedding(labels)], dim=-1)))
            kl = gaussian_kl(mu_q, log_sigma_q, mu_p, log_sigma_p).sum(-1).mean(-1)
            mu, log_sigma = mu_q, log_sigma_q
        else:
            mu, log_sigma = mu_p, log_sigma_p
        eps = mu if noise is None else mu + log_sigma.exp() * noise.float()
        return eps.to(z.dtype), kl, log_sigma_p.exp()

    def forward(
        self,
        tokens: torch.Tensor,
        carry: tuple[torch.Tensor, ...],
        puzzle_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
    ) -> StepOutput:
        """One supervision step. labels [B, S] (training: the posterior sees them), noise [B, L, D] standard
        normal (None: the distribution's mean)."""
        c = self.config
        x = self.input_embedding(tokens, puzzle_ids)
        y, z = carry
        with torch.no_grad():
            for _ in range(c.t_cycles - 1):
                y, z = self._cycle(x, y, z)
        eps, kl, sigma_p = self.transition_noise(z, labels, noise)
        y, z = self._cycle(x, y, z + eps)  # the only cycle that carries gradient
        logits = self.lm_head(y[:, c.prefix_len :])
        q_halt = self.q_head(y[:, 0]).float()[:, 0]
        value = self.value_head(torch.cat([y[:, 0], z.mean(1)], dim=-1)).float()[:, 0]
        extras = {"value": value, "prior_sigma": sigma_p.mean((1, 2)).detach()}
        if kl is not None:
            extras["kl"] = kl
        return StepOutput((y.detach(), z.detach()), logits, q_halt, extras=extras)

    def training_inputs(self, batch: SupervisionBatch, noise: Callable[[], torch.Tensor]) -> dict[str, torch.Tensor]:
        """The posterior sees the labels; eps is drawn with the trainer's noise [B, L, D]."""
        return {"labels": batch.labels, "noise": noise()}

    def kl_weight_at(self, optimizer_step: int) -> float:
        c = self.config
        if c.kl_warmup == 0:
            return c.kl_weight
        return c.kl_weight * min(1.0, (optimizer_step + 1) / c.kl_warmup)

    def loss(self, out: StepOutput, batch: SupervisionBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """TRM's loss + beta * KL(q || p) + value_loss_weight * MSE(sigmoid(v), target), summed over the batch."""
        c = self.config
        loss, sums = supervision_loss(out.logits, batch.labels, out.q_halt, halt_weight=c.halt_loss_weight)
        with torch.no_grad():
            valid = batch.labels != IGNORE_INDEX
            right = (out.logits.argmax(-1) == batch.labels) & valid
            if c.value_target == "exact":
                target = (right.sum(-1) == valid.sum(-1)).float()
            else:
                target = right.sum(-1).float() / valid.sum(-1).clamp(min=1)
        value_mse = (torch.sigmoid(out.extras["value"]) - target) ** 2
        loss = loss + c.value_loss_weight * value_mse.to(loss.dtype).sum()
        sums["value_mse"] = value_mse.sum().detach()
        sums["prior_sigma"] = out.extras["prior_sigma"].sum()
        if "kl" in out.extras:
            kl = out.extras["kl"]
            loss = loss + self.kl_weight_at(batch.optimizer_step) * kl.to(loss.dtype).sum()
            sums["kl"] = kl.sum().detach()
        return loss, sums

    @torch.no_grad()
    def rollout(
        self, tokens: torch.Tensor, steps: int, noise: list[torch.Generator] | None, temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampled trajectories, one per row: (predicted tokens [B, S], sigmoid(value) [B]) after ``steps``
        supervision steps, eps drawn from the prior with each row's generator before every step (None: the
        prior mean); ``temperature`` scales the prior's sigma."""
        carry = self.initial_carry(tokens.shape[0], tokens.device)
        shape = carry[1].shape[1:]  # [L, D]
        out = None
        for _ in range(steps):
            n = None
            if noise is not None:
                n = temperature * torch.stack([torch.randn(shape, generator=g, device=tokens.device) for g in noise])
            out = self(tokens, carry, noise=n)
            carry = out.carry
        assert out is not None
        return out.logits.argmax(-1), torch.sigmoid(out.extras["value"])

    def extra_parameters(self) -> int:
        """Parameters GRAM adds to its TRM: the two Gaussian heads and the value head."""
        return sum(p.numel() for m in (self.prior, self.posterior, self.value_head) for p in m.parameters())
