"""A recurrent network written by hand in NumPy (float64), in the lecture's letters.

Introduced in ``01_rnn_by_hand`` (forward pass, unrolling) and ``02_bptt`` (backpropagation
through time, gradient check, truncated BPTT). No torch here: every matrix is visible.

The cell, for one sequence (shapes in brackets; I input, H hidden, O output)::

    a_t = b + W s_{t-1} + U x_t      a_t, s_t (H,)   U (H, I)   W (H, H)   b (H,)
    s_t = tanh(a_t)
    o_t = c + V s_t                  o_t (O,)        V (O, H)   c (O,)
    y_t = softmax(o_t)

The loss is the sum over time of the cross-entropy ``-log y_t[target_t]`` (natural log).

Two families of functions:

- single sequence (the contract, shown to students): :func:`forward`, :func:`loss_and_grads`,
  :func:`numerical_grads`, :func:`truncated_loss_and_grads`, :func:`step_contributions`;
- a batch of sequences (for training and the benchmark): :func:`forward_batch`,
  :func:`loss_and_grads_batch`. Same mathematics, the time loop only carries the recurrence and
  everything that does not depend on the previous step is done for all steps at once.
"""

from __future__ import annotations

import numpy as np

PARAM_NAMES = ("U", "W", "V", "b", "c")


# --------------------------------------------------------------------------- parameters & checks


def init_params(input_size: int, hidden_size: int, output_size: int, seed: int = 0) -> dict:
    """Random parameters ``{"U" (H, I), "W" (H, H), "V" (O, H), "b" (H,), "c" (O,)}`` in float64.

    Every entry is drawn uniformly from ``[-1/sqrt(H), 1/sqrt(H)]``, the same rule that
    ``torch.nn.RNN`` uses, so the two start in the same regime. ``seed`` makes it reproducible.
    """
    for name, value in (
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("output_size", output_size),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden_size)

    def draw(*shape):
        return rng.uniform(-bound, bound, size=shape)

    return {
        "U": draw(hidden_size, input_size),
        "W": draw(hidden_size, hidden_size),
        "V": draw(output_size, hidden_size),
        "b": draw(hidden_size),
        "c": draw(output_size),
    }


def _sizes(params: dict) -> tuple[int, int, int]:
    """(I, H, O) of a parameter dict, after checking that the shapes fit together."""
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict with keys {PARAM_NAMES}, got {type(params).__name__}"
        )
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; expected keys {PARAM_NAMES}")
    U, W, V, b, c = (np.asarray(params[k]) for k in PARAM_NAMES)
    if U.ndim != 2 or W.ndim != 2 or V.ndim != 2 or b.ndim != 1 or c.ndim != 1:
        raise ValueError("U, W, V must be matrices and b, c vectors")
    H, I = U.shape
    O = V.shape[0]
    expected = {"W": (H, H), "V": (O, H), "b": (H,), "c": (O,)}
    for name, shape in expected.items():
        if np.shape(params[name]) != shape:
            raise ValueError(
                f"params[{name!r}] has shape {np.shape(params[name])}, expected {shape} "
                f"(U is {U.shape}, so H={H}, I={I})"
            )
    return I, H, O


def _input_matrix(inputs, input_size: int, dtype=np.float64) -> np.ndarray:
    """Inputs as a float matrix ``(..., I)``: int ids become one-hot rows, floats are checked."""
    x = np.asarray(inputs)
    if x.dtype.kind in "iu":
        if x.size and (x.min() < 0 or x.max() >= input_size):
            raise ValueError(
                f"token ids must lie in [0, {input_size}), got min {x.min()} and max {x.max()}"
            )
        return np.eye(input_size, dtype=dtype)[x]
    if x.dtype.kind == "f":
        if x.shape[-1:] != (input_size,):
            raise ValueError(
                f"float inputs must end with the input size {input_size}, got {x.shape}"
            )
        return x.astype(dtype, copy=False)
    raise TypeError(f"inputs must be int token ids or floats, got dtype {x.dtype}")


def _check_targets(targets, shape: tuple, output_size: int) -> np.ndarray:
    y = np.asarray(targets)
    if y.dtype.kind not in "iu":
        raise TypeError(f"targets must be int class ids, got dtype {y.dtype}")
    if y.shape != shape:
        raise ValueError(f"targets have shape {y.shape}, expected {shape} (one per time step)")
    if y.size and (y.min() < 0 or y.max() >= output_size):
        raise ValueError(
            f"targets must lie in [0, {output_size}), got min {y.min()} and max {y.max()}"
        )
    return y


def _initial_state(h0, shape: tuple, dtype=np.float64) -> np.ndarray:
    if h0 is None:
        return np.zeros(shape, dtype=dtype)
    h0 = np.asarray(h0, dtype=dtype)
    if h0.shape != shape:
        raise ValueError(f"h0 has shape {h0.shape}, expected {shape}")
    return h0


def softmax(o: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, computed stably (the maximum is subtracted first)."""
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- one sequence


def forward(params: dict, inputs, h0=None):
    """Run the RNN over one sequence: returns ``(logits (T, O), hs (T, H), cache)``.

    ``inputs`` is an int array ``(T,)`` of token ids (one-hot implied) or a float array ``(T, I)``;
    ``h0`` the initial state ``(H,)`` (zeros when None). ``hs[t]`` is ``s_t``; ``logits[t]`` is
    ``o_t`` (softmax not applied). ``cache`` keeps what the backward pass needs.
    """
    I, H, O = _sizes(params)
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    xs = _input_matrix(inputs, I)  # (T, I)
    if xs.ndim != 2:
        raise ValueError(
            f"one sequence expected: ids (T,) or floats (T, I), got shape {np.shape(inputs)}"
        )
    T = xs.shape[0]
    if T == 0:
        raise ValueError("the sequence is empty: at least one time step is needed")
    s_prev = _initial_state(h0, (H,))
    hs = np.zeros((T, H))
    logits = np.zeros((T, O))
    for t in range(T):
        a_t = b + W @ s_prev + U @ xs[t]  # (H,)
        s_t = np.tanh(a_t)  # (H,)
        logits[t] = c + V @ s_t  # (O,)
        hs[t] = s_t
        s_prev = s_t
    cache = {"xs": xs, "hs": hs, "h0": _initial_state(h0, (H,))}
    return logits, hs, cache


def step_losses(params: dict, inputs, targets, h0=None) -> np.ndarray:
    """Cross-entropy of every time step ``(T,)``, forward pass only; their sum is the loss."""
    logits, _, _ = forward(params, inputs, h0)
    y = _check_targets(targets, logits.shape[:1], logits.shape[1])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), y]


def loss(params: dict, inputs, targets, h0=None) -> float:
    """Sum over time of the cross-entropy of one sequence (forward pass only)."""
    return float(step_losses(params, inputs, targets, h0).sum())


def loss_and_grads(params: dict, inputs, targets, h0=None):
    """Loss and gradients of one sequence by backpropagation through time.

    Returns ``(loss, grads, h_last)``: ``loss`` the summed cross-entropy, ``grads`` a dict with the
    keys and shapes of ``params``, ``h_last`` the state ``s_T (H,)`` to carry to the next piece.
    The backward loop walks the unrolled network from ``t = T`` down to 1, carrying ``dL/ds``
    back through ``W`` (introduced in ``02_bptt``).
    """
    logits, hs, cache = forward(params, inputs, h0)
    T, O = logits.shape
    y = _check_targets(targets, (T,), O)
    xs, h_init = cache["xs"], cache["h0"]
    W, V = params["W"], params["V"]

    probs = softmax(logits)  # y_t for every t, (T, O)
    total = float(-np.log(probs[np.arange(T), y]).sum())

    grads = {k: np.zeros_like(params[k]) for k in PARAM_NAMES}
    ds_next = np.zeros(W.shape[0])  # dL/ds_t that arrives from step t+1 through W
    for t in reversed(range(T)):
        s_t = hs[t]
        s_prev = hs[t - 1] if t > 0 else h_init
        do_t = probs[t].copy()
        do_t[y[t]] -= 1.0  # dL/do_t = y_t - onehot(target_t)
        grads["V"] += np.outer(do_t, s_t)
        grads["c"] += do_t
        ds_t = V.T @ do_t + ds_next  # two paths into s_t: the output o_t and the next step a_{t+1}
        da_t = ds_t * (1.0 - s_t**2)  # tanh'(a_t) = 1 - s_t^2
        grads["b"] += da_t
        grads["W"] += np.outer(da_t, s_prev)
        grads["U"] += np.outer(da_t, xs[t])
        ds_next = W.T @ da_t  # hand dL/ds_{t-1} to the previous step
    return total, grads, hs[-1].copy()


def numerical_grads(
    params: dict, inputs, targets, h0=None, eps: float = 1e-5, order: int = 2
) -> dict:
    """Gradients by central differences, entry by entry.

    ``order=2`` (default): ``(L(p + eps) - L(p - eps)) / (2 eps)``, error ~ eps**2.
    ``order=4``: ``(8 (L(p + eps) - L(p - eps)) - (L(p + 2 eps) - L(p - 2 eps))) / (12 eps)``,
    error ~ eps**4, which allows a larger ``eps`` (1e-3) and so less round-off.

    Slow (2 or 4 forward passes per parameter entry): for checking :func:`loss_and_grads` on
    small problems only. The difference is taken time step by time step before summing: the
    per-step losses are small numbers, so less round-off is left in ``plus - minus`` than in the
    difference of two large sums (it matters for long sequences). Introduced in ``02_bptt``.
    """
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    _sizes(params)
    work = {k: np.array(params[k], dtype=np.float64, copy=True) for k in PARAM_NAMES}

    def shifted(p, idx, old, step):
        p[idx] = old + step
        return step_losses(work, inputs, targets, h0)

    grads = {}
    for name in PARAM_NAMES:
        p = work[name]
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            near = shifted(p, idx, old, eps) - shifted(p, idx, old, -eps)
            if order == 2:
                g[idx] = np.sum(near) / (2 * eps)
            else:
                far = shifted(p, idx, old, 2 * eps) - shifted(p, idx, old, -2 * eps)
                g[idx] = np.sum(8 * near - far) / (12 * eps)
            p[idx] = old
        grads[name] = g
    return grads


def relative_error(a, b) -> float:
    """Largest entrywise ``|a - b| / max(1e-8, |a| + |b|)``: the gradient-check measure."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def truncated_loss_and_grads(params: dict, inputs, targets, k: int, h0=None):
    """Truncated BPTT: gradients over windows of ``k`` steps, the state carried across windows.

    The sequence is cut into pieces of ``k`` steps; each piece starts from the last state of the
    previous piece, but no gradient flows back across the cut (the state is treated as a
    constant, what ``h.detach()`` does in torch). Returns ``(loss, grads, h_last)``; the loss
    equals the full loss (the forward pass is the same), the gradients are an approximation that
    ignores dependencies longer than the window. Introduced in ``02_bptt``.
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"window length k must be a positive int, got {k!r}")
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    _, H, _ = _sizes(params)
    h = _initial_state(h0, (H,))
    total = 0.0
    grads = {name: np.zeros_like(params[name]) for name in PARAM_NAMES}
    for start in range(0, len(inputs), k):
        piece_loss, piece_grads, h = loss_and_grads(
            params, inputs[start : start + k], targets[start : start + k], h
        )
        total += piece_loss
        for name in PARAM_NAMES:
            grads[name] += piece_grads[name]
    return total, grads, h


def step_contributions(params: dict, inputs, targets, h0=None, last_only: bool = False):
    """Per-time-step terms of ``dL/dW``: returns an array ``(T, H, H)`` whose sum over t is dW.

    Term t is ``da_t s_{t-1}^T``, the part of the gradient that W collects at step t. With
    ``last_only=True`` the loss is only the last step's ``L_T``, so term t shows how much of the
    signal from the end of the sequence is still left t steps earlier (the road to ``03``).
    """
    logits, hs, cache = forward(params, inputs, h0)
    T, O = logits.shape
    y = _check_targets(targets, (T,), O)
    W, V = params["W"], params["V"]
    probs = softmax(logits)
    terms = np.zeros((T,) + W.shape)
    ds_next = np.zeros(W.shape[0])
    for t in reversed(range(T)):
        s_prev = hs[t - 1] if t > 0 else cache["h0"]
        do_t = probs[t].copy()
        do_t[y[t]] -= 1.0
        if last_only and t != T - 1:
            do_t[:] = 0.0
        da_t = (V.T @ do_t + ds_next) * (1.0 - hs[t] ** 2)
        terms[t] = np.outer(da_t, s_prev)
        ds_next = W.T @ da_t
    return terms


def sample(
    params: dict, prefix_ids, max_len: int, rng=None, stop_id=None, temperature: float = 1.0
):
    """Generate token ids with the hand-made RNN: feed ``prefix_ids``, then draw one id at a time.

    Returns the new ids only (at most ``max_len``; stops after drawing ``stop_id``). ``rng`` is a
    ``numpy.random.Generator`` (a seed int is accepted too). Used in ``01_rnn_by_hand``.
    """
    if len(prefix_ids) == 0:
        raise ValueError("prefix_ids must contain at least one id (e.g. the <bos> id)")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(rng)
    I, H, _ = _sizes(params)
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    s = np.zeros(H)
    for i in prefix_ids:
        s = np.tanh(b + W @ s + U[:, i])  # U @ onehot(i) is column i of U
    out = []
    while len(out) < max_len:
        p = softmax((c + V @ s) / temperature)
        nxt = int(rng.choice(len(p), p=p))
        out.append(nxt)
        if nxt == stop_id:
            break
        if nxt >= I:
            raise ValueError(f"drew id {nxt}, but the input size is {I}: inputs and outputs differ")
        s = np.tanh(b + W @ s + U[:, nxt])
    return out


# --------------------------------------------------------------------------- a batch of sequences


def forward_batch(params: dict, inputs, h0=None):
    """Run the RNN over a batch: ``inputs`` int ``(B, T)`` or float ``(B, T, I)``, ``h0`` ``(B, H)``.

    Returns ``(logits (B, T, O), hs (B, T, H), cache)``. Computes in the dtype of ``params["W"]``
    (float64 normally; float32 params give float32 work, used by the benchmark).
    """
    I, H, O = _sizes(params)
    dtype = np.asarray(params["W"]).dtype
    U, W, V, b, c = (np.asarray(params[k], dtype=dtype) for k in PARAM_NAMES)
    x = np.asarray(inputs)
    if x.dtype.kind in "iu":
        if x.ndim != 2:
            raise ValueError(f"batched token ids must have shape (B, T), got {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= I):
            raise ValueError(f"token ids must lie in [0, {I}), got min {x.min()} and max {x.max()}")
        ux = U.T[x.T]  # (T, B, H): U @ onehot(id) is column id of U, gathered for all steps at once
    else:
        xs = _input_matrix(x, I, dtype)
        if xs.ndim != 3:
            raise ValueError(f"batched float inputs must have shape (B, T, I), got {x.shape}")
        ux = xs.transpose(1, 0, 2) @ U.T  # (T, B, H)
    T, B = ux.shape[:2]
    if T == 0:
        raise ValueError("the sequences are empty: at least one time step is needed")
    s_prev = _initial_state(h0, (B, H), dtype)
    hs = np.empty((T, B, H), dtype=dtype)  # time-major: hs[t] is a contiguous (B, H) block
    pre = ux + b
    for t in range(T):
        s_prev = hs[t] = np.tanh(pre[t] + s_prev @ W.T)
    logits = hs @ V.T + c  # (T, B, O), all steps at once
    cache = {"inputs": x, "hs": hs, "h0": _initial_state(h0, (B, H), dtype)}
    return logits.transpose(1, 0, 2), hs.transpose(1, 0, 2), cache


def loss_and_grads_batch(params: dict, inputs, targets, h0=None, mask=None):
    """BPTT for a batch: ``(loss, grads, h_last (B, H))``, the loss summed over batch and time.

    ``targets`` int ``(B, T)``; ``mask`` optional bool/float ``(B, T)``: steps with 0 add nothing
    to the loss (padding after a short sequence; its later states cannot influence earlier steps,
    so the gradients stay exact). Equal to summing :func:`loss_and_grads` over the rows.
    """
    I, H, O = _sizes(params)
    logits, _, cache = forward_batch(params, inputs, h0)
    B, T, _ = logits.shape
    y = _check_targets(targets, (B, T), O)
    dtype = logits.dtype
    U, W, V = (np.asarray(params[k], dtype=dtype) for k in ("U", "W", "V"))
    hs, h_init = cache["hs"], cache["h0"]  # (T, B, H), (B, H)
    lt = logits.transpose(1, 0, 2)  # (T, B, O)
    yt = y.T  # (T, B)
    m = np.ones((T, B), dtype=dtype) if mask is None else np.asarray(mask, dtype=dtype).T
    if m.shape != (T, B):
        raise ValueError(f"mask has shape {np.shape(mask)}, expected {(B, T)}")

    probs = softmax(lt)  # (T, B, O)
    tt, bb = np.meshgrid(np.arange(T), np.arange(B), indexing="ij")
    picked = probs[tt, bb, yt]
    total = float(-(np.log(picked) * m).sum())

    do = probs  # reuse the buffer: dL/do = (y_t - onehot) * mask
    do[tt, bb, yt] -= 1.0
    do *= m[:, :, None]
    ds_out = do @ V  # (T, B, H): dL/ds_t through the output, for every step at once
    da = np.empty_like(hs)
    ds_next = np.zeros((B, H), dtype=dtype)
    for t in range(T - 1, -1, -1):  # only the recurrence needs the loop
        da[t] = (ds_out[t] + ds_next) * (1.0 - hs[t] ** 2)
        ds_next = da[t] @ W
    s_prev = np.concatenate([h_init[None], hs[:-1]], axis=0)  # (T, B, H): s_{t-1} for every t
    da2 = da.reshape(-1, H)
    grads = {
        "W": da2.T @ s_prev.reshape(-1, H),
        "V": do.reshape(-1, O).T @ hs.reshape(-1, H),
        "b": da2.sum(axis=0),
        "c": do.reshape(-1, O).sum(axis=0),
    }
    x = cache["inputs"]
    if x.dtype.kind in "iu":
        dU_T = np.zeros((I, H), dtype=dtype)
        np.add.at(dU_T, x.T.reshape(-1), da2)  # column id of U collects every da_t where x_t = id
        grads["U"] = dU_T.T
    else:
        grads["U"] = da2.T @ np.asarray(x, dtype=dtype).transpose(1, 0, 2).reshape(-1, I)
    return total, grads, hs[-1].copy()
