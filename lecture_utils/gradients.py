"""Gradient flow through time: why RNN gradients vanish or explode, and the two remedies.

Introduced in 03_vanishing_exploding. The RNN here is the lecture's cell with the input part
folded into a random drive ``u_t`` (it plays the role of ``b + U x_t``)::

    a_t = W s_{t-1} + u_t,     s_t = f(a_t),     t = 1 .. T

so that ``∂s_t/∂s_{t-1} = diag(f'(a_t)) W`` and

    ∂s_T/∂s_t = diag(f'(a_T)) W · diag(f'(a_{T-1})) W · … · diag(f'(a_{t+1})) W.

If ``|f'| ≤ γ`` and the largest singular value of ``W`` is ``σ_max``, every factor has norm at most
``γ·σ_max``, hence the bound ``‖∂s_T/∂s_t‖ ≤ (γ·σ_max)^(T−t)`` (Pascanu, Mikolov, Bengio 2013):
below ``σ_max = 1/γ`` gradients must vanish exponentially; above it they *may* explode.

Shapes: ``T`` time steps, ``H`` hidden size, ``B`` batch, ``I`` input size. Matrices are float64
so that products of 100 Jacobians stay accurate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lecture_utils.tasks import SequenceClassifier, adding_problem, set_lstm_forget_bias

# ---------------------------------------------------------------------------------------------
# Nonlinearities and their derivative bounds γ
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nonlinearity:
    """An activation f, its derivative f', and γ = sup |f'|."""

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]  # f(a)
    deriv: Callable[[torch.Tensor], torch.Tensor]  # f'(a), elementwise
    gamma: float  # upper bound of |f'|


NONLINEARITIES: dict[str, Nonlinearity] = {
    "tanh": Nonlinearity("tanh", torch.tanh, lambda a: 1 - torch.tanh(a) ** 2, 1.0),
    "relu": Nonlinearity("relu", torch.relu, lambda a: (a > 0).to(a.dtype), 1.0),
    "identity": Nonlinearity("identity", lambda a: a, torch.ones_like, 1.0),
    "sigmoid": Nonlinearity(
        "sigmoid", torch.sigmoid, lambda a: torch.sigmoid(a) * (1 - torch.sigmoid(a)), 0.25
    ),
}


def get_nonlinearity(name: str) -> Nonlinearity:
    """Look up a :class:`Nonlinearity` by name (``tanh``, ``relu``, ``identity``, ``sigmoid``)."""
    try:
        return NONLINEARITIES[name]
    except KeyError:
        raise ValueError(
            f"unknown nonlinearity {name!r}; choose one of {sorted(NONLINEARITIES)}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Recurrent matrices with a chosen scale
# ---------------------------------------------------------------------------------------------


def sigma_max(W: torch.Tensor) -> float:
    """Largest singular value of ``W`` (its spectral norm)."""
    return float(torch.linalg.matrix_norm(W, ord=2))


def spectral_radius(W: torch.Tensor) -> float:
    """Largest absolute eigenvalue of ``W`` (≤ σ_max; equal for normal matrices)."""
    return float(torch.linalg.eigvals(W).abs().max())


def scaled_matrix(
    hidden_size: int,
    value: float,
    *,
    by: str = "sigma_max",
    orthogonal: bool = False,
    seed: int = 0,
) -> torch.Tensor:
    """Random ``(H, H)`` float64 matrix scaled so that ``σ_max`` (or the spectral radius) is ``value``.

    ``by="sigma_max"`` scales the largest singular value, ``by="spectral_radius"`` the largest
    |eigenvalue|. ``orthogonal=True`` starts from a random orthogonal matrix, whose singular values
    are all equal (then σ_max = spectral radius and ‖W^k‖ = value^k exactly); otherwise the entries
    start Gaussian N(0, 1/H).
    """
    if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size < 1:
        raise ValueError(f"hidden_size must be a positive int, got {hidden_size!r}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"value must be a finite number >= 0, got {value!r}")
    if by not in ("sigma_max", "spectral_radius"):
        raise ValueError(f"by must be 'sigma_max' or 'spectral_radius', got {by!r}")
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(hidden_size, hidden_size, generator=gen, dtype=torch.float64)
    W /= math.sqrt(hidden_size)
    if orthogonal:
        Q, R = torch.linalg.qr(W)
        W = Q * torch.sign(torch.diagonal(R))  # uniform (Haar) orthogonal matrix
    current = sigma_max(W) if by == "sigma_max" else spectral_radius(W)
    return W * (value / current)


# ---------------------------------------------------------------------------------------------
# Jacobian products: explicit and by autograd
# ---------------------------------------------------------------------------------------------


@dataclass
class FlowConfig:
    """Settings of one gradient-flow measurement (see :func:`gradient_flow`)."""

    hidden_size: int = 32  # H
    steps: int = 50  # T, the number of recurrent steps
    scale: float = 1.0  # target σ_max (or spectral radius) of W
    scale_by: str = "sigma_max"  # "sigma_max" or "spectral_radius"
    nonlinearity: str = "tanh"  # "tanh", "relu", "identity" or "sigmoid"
    input_scale: float = 0.5  # std of the random drive u_t; larger saturates tanh more
    orthogonal: bool = True  # start W orthogonal (all singular values equal, σ_max = ρ)
    seed: int = 0  # seeds W, the drive u_t and s_0


def random_drive(steps: int, hidden_size: int, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Random inputs ``u (T, H)`` (float64, N(0, scale²)) standing for ``b + U x_t``."""
    gen = torch.Generator().manual_seed(seed + 1)
    return scale * torch.randn(steps, hidden_size, generator=gen, dtype=torch.float64)


def run_rnn(
    W: torch.Tensor, u: torch.Tensor, s0: torch.Tensor, nonlinearity: str = "tanh"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unroll ``s_t = f(W s_{t-1} + u_t)``: returns pre-activations ``a (T, H)`` and ``s (T+1, H)``.

    ``s[0]`` is ``s0``; ``s[t]`` and ``a[t-1]`` belong to step ``t``.
    """
    f = get_nonlinearity(nonlinearity).fn
    pre, states = [], [s0]
    for u_t in u:
        a = W @ states[-1] + u_t
        pre.append(a)
        states.append(f(a))
    if not pre:  # T = 0: no step, only s_0
        return s0.new_zeros(0, s0.shape[-1]), s0[None]
    return torch.stack(pre), torch.stack(states)


def jacobian_products(
    W: torch.Tensor, pre: torch.Tensor, nonlinearity: str = "tanh"
) -> torch.Tensor:
    """Explicit products ``J[t] = ∂s_T/∂s_t`` for ``t = 0..T``: a ``(T+1, H, H)`` tensor.

    Built backwards from ``J[T] = I`` with ``J[t-1] = J[t] · diag(f'(a_t)) · W``.
    """
    d = get_nonlinearity(nonlinearity).deriv(pre)  # (T, H): f'(a_t)
    T, H = pre.shape
    J = torch.empty(T + 1, H, H, dtype=W.dtype)
    J[T] = torch.eye(H, dtype=W.dtype)
    for t in range(T, 0, -1):
        J[t - 1] = J[t] @ (d[t - 1, :, None] * W)  # diag(f'(a_t)) W, with a_t = pre[t-1]
    return J


def jacobian_norms(W: torch.Tensor, pre: torch.Tensor, nonlinearity: str = "tanh") -> torch.Tensor:
    """Spectral norms ``‖∂s_T/∂s_t‖₂`` for ``t = 0..T`` from the explicit products, shape ``(T+1,)``."""
    return torch.linalg.matrix_norm(jacobian_products(W, pre, nonlinearity), ord=2)


def autograd_jacobians(
    W: torch.Tensor, u: torch.Tensor, s0: torch.Tensor, nonlinearity: str = "tanh"
) -> torch.Tensor:
    """The same ``∂s_T/∂s_t`` (``(T+1, H, H)``) computed by autograd, as a check of the products.

    For each ``t`` the RNN is re-run from the (fixed) state ``s_t`` and torch differentiates
    ``s_T`` with respect to it. Cost grows as T²; meant for tests and small demos.
    """
    _, states = run_rnn(W, u, s0, nonlinearity)
    T = len(u)
    out = []
    for t in range(T + 1):

        def tail(s_t, t=t):
            return run_rnn(W, u[t:], s_t, nonlinearity)[1][-1]

        out.append(torch.autograd.functional.jacobian(tail, states[t].detach()))
    return torch.stack(out)


def loss_grad_norms(
    W: torch.Tensor,
    u: torch.Tensor,
    s0: torch.Tensor,
    v: torch.Tensor,
    nonlinearity: str = "tanh",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Norms ``‖∂L/∂s_t‖`` for the loss ``L = v·s_T``, ``t = 0..T``, two ways.

    Returns ``(explicit, autograd)``, each ``(T+1,)``: ``explicit`` is ``‖J[t]ᵀ v‖`` from
    :func:`jacobian_products`; ``autograd`` keeps every state in the graph (``retain_grad``) and
    calls ``backward`` once — what BPTT does.
    """
    f = get_nonlinearity(nonlinearity).fn
    states = [s0.detach().clone().requires_grad_(True)]
    for u_t in u:
        states.append(f(W @ states[-1] + u_t))
        states[-1].retain_grad()
    (v @ states[-1]).backward()
    by_autograd = torch.stack([s.grad for s in states]).norm(dim=1)
    pre, _ = run_rnn(W, u, s0, nonlinearity)
    J = jacobian_products(W, pre, nonlinearity)
    explicit = (J.transpose(1, 2) @ v).norm(dim=1)
    return explicit, by_autograd


def bound(gamma: float, sigma: float, distances) -> np.ndarray:
    """Pascanu's upper bound ``(γ·σ_max)^(T−t)`` for each distance ``T−t``."""
    return (gamma * sigma) ** np.asarray(distances, dtype=float)


@dataclass
class FlowResult:
    """One gradient-flow measurement, ready to plot (all numpy)."""

    config: FlowConfig
    distance: np.ndarray  # (T+1,) T−t = 0..T
    norms: np.ndarray  # (T+1,) ‖∂s_T/∂s_t‖₂ at distance T−t
    bound: np.ndarray  # (T+1,) (γ·σ_max)^(T−t)
    gamma: float  # sup |f'|
    sigma_max: float  # largest singular value of W
    spectral_radius: float  # largest |eigenvalue| of W
    eigenvalues: np.ndarray  # (H,) complex eigenvalues of W
    derivs: np.ndarray  # (T, H) f'(a_t) met on the way (shows tanh saturation)

    @property
    def label(self) -> str:
        c = self.config
        return f"{c.nonlinearity}, σ_max={self.sigma_max:.2f}"


def gradient_flow(config: FlowConfig | None = None, **overrides) -> FlowResult:
    """Measure ``‖∂s_T/∂s_t‖`` against the distance ``T−t`` for one RNN (see :class:`FlowConfig`).

    Keyword overrides change single fields: ``gradient_flow(scale=1.5, nonlinearity="relu")``.
    """
    cfg = config if config is not None else FlowConfig()
    if overrides:
        unknown = set(overrides) - set(FlowConfig.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown FlowConfig fields: {sorted(unknown)}")
        cfg = FlowConfig(**{**cfg.__dict__, **overrides})
    if isinstance(cfg.steps, bool) or not isinstance(cfg.steps, int) or cfg.steps < 1:
        raise ValueError(f"steps must be a positive int, got {cfg.steps!r}")
    nl = get_nonlinearity(cfg.nonlinearity)
    W = scaled_matrix(
        cfg.hidden_size, cfg.scale, by=cfg.scale_by, orthogonal=cfg.orthogonal, seed=cfg.seed
    )
    u = random_drive(cfg.steps, cfg.hidden_size, cfg.input_scale, cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    s0 = 0.1 * torch.randn(cfg.hidden_size, generator=gen, dtype=torch.float64)
    pre, _ = run_rnn(W, u, s0, cfg.nonlinearity)
    norms = jacobian_norms(W, pre, cfg.nonlinearity).flip(0)  # index = distance T−t
    distance = np.arange(cfg.steps + 1)
    smax = sigma_max(W)
    return FlowResult(
        config=cfg,
        distance=distance,
        norms=norms.numpy(),
        bound=bound(nl.gamma, smax, distance),
        gamma=nl.gamma,
        sigma_max=smax,
        spectral_radius=spectral_radius(W),
        eigenvalues=torch.linalg.eigvals(W).numpy(),
        derivs=nl.deriv(pre).numpy(),
    )


def decay_rate(result: FlowResult, skip: int = 5) -> float:
    """Geometric mean factor per step of ``‖∂s_T/∂s_t‖`` (fitted on distances ≥ ``skip``).

    Below 1: the gradient shrinks by this factor every step back in time; above 1: it grows.
    """
    d, n = result.distance[skip:], result.norms[skip:]
    keep = n > 0
    if keep.sum() < 2:
        return 0.0
    slope = np.polyfit(d[keep], np.log(n[keep]), 1)[0]
    return float(np.exp(slope))


# ---------------------------------------------------------------------------------------------
# Exploding gradients in training, and clipping (Pascanu et al. 2013, algorithm 1)
# ---------------------------------------------------------------------------------------------


def clip_grad_norm_by_hand(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Pascanu's clipping: if the total gradient norm ‖g‖ exceeds ``max_norm``, rescale g to it.

    ``ĝ ← g · max_norm / ‖g‖`` when ``‖g‖ > max_norm`` — the direction is kept, only the step
    length is capped. Same result as ``torch.nn.utils.clip_grad_norm_`` (which, like here, adds
    1e-6 to the norm to avoid dividing by zero). Returns the norm *before* clipping.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g.mul_(scale)
    return total


@dataclass
class ExplosionConfig:
    """An RNN with a too-large recurrent matrix trained by plain SGD on the adding problem."""

    length: int = 8  # T of the adding problem (short: explosion, not memory, is the point)
    hidden_size: int = 32  # H
    sigma_max: float = 3.0  # σ_max of the initial W_hh (far above 1/γ = 1 for tanh)
    lr: float = 0.1  # SGD learning rate (no momentum: the step is exactly lr·gradient)
    steps: int = 1200  # optimisation steps
    batch_size: int = 64  # B
    n_train: int = 1000  # training sequences
    seed: int = 0  # seeds the data, the initialisation and the batches


def make_exploding_rnn(cfg: ExplosionConfig) -> SequenceClassifier:
    """A tanh :class:`~lecture_utils.tasks.SequenceClassifier` whose ``W_hh`` has ``σ_max = cfg.sigma_max``."""
    torch.manual_seed(cfg.seed)
    model = SequenceClassifier(2, cfg.hidden_size, 1, cell="rnn")
    W = scaled_matrix(cfg.hidden_size, cfg.sigma_max, seed=cfg.seed).float()
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(W)
    return model


@dataclass
class GradStats:
    """Loss and gradient norm per step of one training run."""

    loss: list[float] = field(default_factory=list)  # batch loss (MSE)
    grad_norm: list[float] = field(default_factory=list)  # total gradient norm before clipping
    diverged_at: int | None = None  # first step whose loss or gradient was inf/NaN

    def summary(self) -> dict[str, float]:
        """Median, 90th percentile and max of the finite gradient norms; final loss."""
        g = np.asarray(self.grad_norm, dtype=float)
        g = g[np.isfinite(g)]
        return {
            "median": float(np.median(g)) if len(g) else math.nan,
            "p90": float(np.percentile(g, 90)) if len(g) else math.nan,
            "max": float(g.max()) if len(g) else math.nan,
            "final_loss": self.loss[-1] if self.loss else math.nan,
        }


def train_with_grad_stats(
    cfg: ExplosionConfig,
    clip: float | None = None,
    clip_fn: Callable = torch.nn.utils.clip_grad_norm_,
) -> GradStats:
    """Train :func:`make_exploding_rnn` with SGD, recording loss and gradient norm every step.

    ``clip=None`` trains without clipping (the norm is still measured); otherwise
    ``clip_fn(parameters, clip)`` clips the gradients in place: torch's ``clip_grad_norm_``,
    :func:`clip_grad_norm_by_hand`, or e.g. ``clip_grad_value_`` (its return value is ignored).
    Training stops at the first inf/NaN loss or gradient (``diverged_at``).
    """
    x, y = adding_problem(cfg.n_train, cfg.length, seed=cfg.seed)
    model = make_exploding_rnn(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    stats = GradStats()
    for step in range(cfg.steps):
        idx = torch.randint(0, cfg.n_train, (cfg.batch_size,), generator=gen)
        loss = F.mse_loss(model(x[idx]).squeeze(-1), y[idx])
        opt.zero_grad()
        loss.backward()
        # the total norm before clipping (max_norm=inf only measures, it changes nothing)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
        if clip is not None:
            clip_fn(model.parameters(), clip)
        stats.loss.append(loss.item())
        stats.grad_norm.append(float(norm))
        if not (math.isfinite(stats.loss[-1]) and math.isfinite(stats.grad_norm[-1])):
            stats.diverged_at = step
            break
        opt.step()
    return stats


# ---------------------------------------------------------------------------------------------
# LSTM: the cell state as a gradient highway, and the forget-gate bias
# ---------------------------------------------------------------------------------------------


@dataclass
class CellFlow:
    """Gradient reach through the state of an RNN or LSTM (all numpy, index = distance T−t)."""

    distance: np.ndarray  # (T+1,)
    rel_grad: np.ndarray  # (T+1,) ‖∂L/∂c_t‖ / ‖∂L/∂c_T‖ (LSTM cell state) or the same for s_t
    forget_mean: float | None  # mean f_t over steps, units and batch (LSTM only)
    forget_product: np.ndarray | None  # (T+1,) mean over units/batch of ∏ f_k (the direct path)


def reach(rel_grad: np.ndarray, threshold: float = 0.01) -> int:
    """The first distance T−t at which the relative gradient drops below ``threshold``.

    Returns ``len(rel_grad)`` when it never does (the gradient reaches the whole sequence).
    """
    below = np.nonzero(np.asarray(rel_grad) < threshold)[0]
    return int(below[0]) if len(below) else len(rel_grad)


def random_sequences(steps: int, batch: int, input_size: int, seed: int = 0) -> torch.Tensor:
    """Random input batch ``(T, B, I)`` (float32, N(0, 1)) for the cell measurements."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(steps, batch, input_size, generator=gen)


def lstm_cell_flow(cell: nn.LSTMCell, xs: torch.Tensor) -> CellFlow:
    """Run an ``nn.LSTMCell`` over ``xs (T, B, I)`` and measure how far the gradient of
    ``L = Σ c_T`` travels back along the cell state (all paths, by autograd).

    Also returns the gate values f_t and the product ∏ f_k of the direct path
    ``c_t = f_t ⊙ c_{t-1} + …`` — the "constant error carousel": where f ≈ 1 the product, and so
    ``∂c_T/∂c_t``, stays near 1.
    """
    T, B, _ = xs.shape
    H = cell.hidden_size
    h = torch.zeros(B, H)
    c = torch.zeros(B, H, requires_grad=True)
    cells, forgets = [c], []
    for x in xs:
        gates = F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(
            h, cell.weight_hh, cell.bias_hh
        )
        i, f, g, o = gates.chunk(4, dim=1)  # torch's gate order
        f = torch.sigmoid(f)
        c = f * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        c.retain_grad()
        cells.append(c)
        forgets.append(f.detach())
    cells[-1].sum().backward()
    norms = torch.stack([ct.grad.norm() for ct in cells])  # index t = 0..T
    rel = (norms / norms[-1]).flip(0).numpy()
    fs = torch.stack(forgets)  # (T, B, H)
    # ∏_{k=t+1}^{T} f_k for every t, as a function of the distance T−t
    prods = torch.cumprod(fs.flip(0), dim=0).mean(dim=(1, 2))
    forget_product = np.concatenate([[1.0], prods.numpy()])
    return CellFlow(np.arange(T + 1), rel, float(fs.mean()), forget_product)


def rnn_cell_flow(cell: nn.RNNCell, xs: torch.Tensor) -> CellFlow:
    """The same measurement for an ``nn.RNNCell``: ``‖∂L/∂s_t‖ / ‖∂L/∂s_T‖`` with ``L = Σ s_T``."""
    T, B, _ = xs.shape
    h = torch.zeros(B, cell.hidden_size, requires_grad=True)
    states = [h]
    for x in xs:
        h = cell(x, h)
        h.retain_grad()
        states.append(h)
    states[-1].sum().backward()
    norms = torch.stack([s.grad.norm() for s in states])
    return CellFlow(np.arange(T + 1), (norms / norms[-1]).flip(0).numpy(), None, None)


def forget_bias_flow(
    forget_bias: float,
    *,
    steps: int = 60,
    input_size: int = 8,
    hidden_size: int = 32,
    batch: int = 64,
    seed: int = 0,
) -> CellFlow:
    """Gradient reach of a freshly initialised ``nn.LSTMCell`` whose forget bias b_f is ``forget_bias``.

    Everything else (weights, inputs) is identical for every ``forget_bias`` with the same seed,
    so the runs differ only in b_f.
    """
    torch.manual_seed(seed)
    cell = nn.LSTMCell(input_size, hidden_size)
    set_lstm_forget_bias(cell, forget_bias)
    return lstm_cell_flow(cell, random_sequences(steps, batch, input_size, seed))


# ---------------------------------------------------------------------------------------------
# Vanishing gradients in training: a plain RNN against an LSTM on the adding problem
# ---------------------------------------------------------------------------------------------


@dataclass
class MemoryConfig:
    """Training settings shared by every model and length in :func:`compare_on_adding`."""

    hidden_size: int = 32  # H
    steps: int = 500  # Adam steps per model and length
    batch_size: int = 64  # B
    lr: float = 2e-2  # Adam learning rate
    clip: float = 1.0  # clip_grad_norm_ threshold (so explosion is not what we measure)
    forget_bias: float = 1.0  # LSTM b_f at initialisation
    n_train: int = 2000  # training sequences per length
    n_test: int = 500  # fresh test sequences per length
    seed: int = 0  # seeds data, initialisation and batches


def compare_on_adding(
    lengths: Iterable[int], cells: Iterable[str] = ("rnn", "lstm"), cfg: MemoryConfig | None = None
) -> dict[str, list[float]]:
    """Train each cell type on the adding problem of every length; return test MSE per cell.

    The baseline without memory (always answer 1) has MSE ≈ 1/6 ≈ 0.167.
    """
    from lecture_utils.tasks import evaluate_mse, train_sequence_model

    cfg = cfg if cfg is not None else MemoryConfig()
    lengths = list(lengths)
    scores: dict[str, list[float]] = {}
    for cell in cells:
        scores[cell] = []
        for T in lengths:
            x, y = adding_problem(cfg.n_train, T, seed=cfg.seed)
            x_test, y_test = adding_problem(cfg.n_test, T, seed=cfg.seed + 1)
            torch.manual_seed(cfg.seed)
            model = SequenceClassifier(
                2,
                cfg.hidden_size,
                1,
                cell=cell,
                forget_bias=cfg.forget_bias if cell == "lstm" else None,
            )
            train_sequence_model(
                model,
                x,
                y,
                steps=cfg.steps,
                batch_size=cfg.batch_size,
                lr=cfg.lr,
                clip=cfg.clip,
                seed=cfg.seed,
            )
            scores[cell].append(evaluate_mse(model, x_test, y_test))
    return scores
