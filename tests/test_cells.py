"""Scratch cells equal torch's cells and layers: outputs and gradients, many sizes and seeds."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from lecture_utils import cells
from lecture_utils.cells import (
    CellSequenceClassifier,
    GRUCellScratch,
    LSTMCellScratch,
    RNNCellScratch,
    cell_from_layer,
    count_parameters,
    expected_parameter_count,
    set_forget_bias,
    unroll,
)

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
SEEDS = [0, 1, 2, 3, 4]


def make_pair(kind: str, input_size: int, hidden_size: int, bias: bool = True):
    """(torch cell, scratch cell with the torch cell's weights)."""
    if kind.startswith("rnn"):
        nl = kind.split("_")[1]
        ref = nn.RNNCell(input_size, hidden_size, bias=bias, nonlinearity=nl)
        mine = RNNCellScratch(input_size, hidden_size, bias=bias, nonlinearity=nl)
    elif kind == "lstm":
        ref = nn.LSTMCell(input_size, hidden_size, bias=bias)
        mine = LSTMCellScratch(input_size, hidden_size, bias=bias)
    else:
        ref = nn.GRUCell(input_size, hidden_size, bias=bias)
        mine = GRUCellScratch(input_size, hidden_size, bias=bias)
    mine.load_state_dict(ref.state_dict())
    return ref, mine


def random_state(kind, batch, hidden, dtype, gen):
    def t():
        return torch.randn(batch, hidden, dtype=dtype, generator=gen, requires_grad=True)

    return (t(), t()) if kind == "lstm" else t()


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(as_tuple(a), as_tuple(b), strict=True))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_cell_equals_torch_outputs_and_gradients(kind, seed, dtype):
    rng = random.Random(seed)
    I, H, B = rng.randint(1, 12), rng.randint(1, 12), rng.randint(1, 6)
    bias = seed != 3  # one seed without biases
    torch.manual_seed(seed)
    ref, mine = make_pair(kind, I, H, bias)
    ref, mine = ref.to(dtype), mine.to(dtype)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, I, dtype=dtype, generator=gen, requires_grad=True)
    state = random_state(kind, B, H, dtype, gen)

    out_ref, out_mine = ref(x, state), mine(x, state)
    assert type(out_ref) is type(out_mine)
    assert [o.shape for o in as_tuple(out_ref)] == [o.shape for o in as_tuple(out_mine)]
    assert max_diff(out_ref, out_mine) <= TOL[dtype]

    # the same scalar loss through both; compare gradients w.r.t. weights, input and state
    weights = [torch.randn(o.shape, dtype=dtype, generator=gen) for o in as_tuple(out_ref)]
    leaves = [x, *as_tuple(state)]

    def grads(module, out):
        loss = sum((w * o).sum() for w, o in zip(weights, as_tuple(out), strict=True))
        return torch.autograd.grad(loss, [*module.parameters(), *leaves])

    g_ref = grads(ref, out_ref)
    g_mine = grads(mine, out_mine)
    names = [n for n, _ in mine.named_parameters()] + ["x"] + ["state"] * (len(leaves) - 1)
    for name, a, b in zip(names, g_ref, g_mine, strict=True):
        scale = max(1.0, a.abs().max().item())
        assert (a - b).abs().max().item() <= TOL[dtype] * scale, name


@pytest.mark.parametrize("kind", KINDS)
def test_cell_default_state_and_unbatched_input(kind):
    torch.manual_seed(7)
    ref, mine = make_pair(kind, 4, 5)
    ref, mine = ref.double(), mine.double()
    x = torch.randn(3, 4, dtype=torch.float64)
    assert max_diff(ref(x), mine(x)) <= 1e-12  # state=None means zeros
    x1 = torch.randn(4, dtype=torch.float64)
    a, b = ref(x1), mine(x1)
    assert [o.shape for o in as_tuple(b)] == [torch.Size([5])] * len(as_tuple(b))
    assert max_diff(a, b) <= 1e-12


def test_parameter_names_shapes_and_default_init_like_torch():
    for ref_cls, my_cls, n in [
        (nn.RNNCell, RNNCellScratch, 1),
        (nn.LSTMCell, LSTMCellScratch, 4),
        (nn.GRUCell, GRUCellScratch, 3),
    ]:
        ref, mine = ref_cls(6, 9), my_cls(6, 9)
        shapes = {k: tuple(v.shape) for k, v in mine.state_dict().items()}
        assert shapes == {k: tuple(v.shape) for k, v in ref.state_dict().items()}
        assert shapes["weight_ih"] == (n * 9, 6)
        k = 1 / 9**0.5
        assert all(p.abs().max() <= k for p in mine.parameters())
        assert mine.weight_hh.std() > k / 4  # really random, not zeros
        assert count_parameters(mine) == count_parameters(ref)
    no_bias = LSTMCellScratch(3, 4, bias=False)
    assert set(no_bias.state_dict()) == set(nn.LSTMCell(3, 4, bias=False).state_dict())


# ----------------------------------------------------------------------------- unroll
LAYERS = {
    "rnn_tanh": lambda i, h: nn.RNN(i, h, nonlinearity="tanh"),
    "rnn_relu": lambda i, h: nn.RNN(i, h, nonlinearity="relu"),
    "lstm": lambda i, h: nn.LSTM(i, h),
    "gru": lambda i, h: nn.GRU(i, h),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_unroll_equals_torch_layer_with_initial_state(kind, seed, dtype):
    rng = random.Random(100 + seed)
    I, H, B, T = rng.randint(1, 8), rng.randint(2, 10), rng.randint(1, 4), rng.randint(40, 60)
    torch.manual_seed(seed)
    layer = LAYERS[kind](I, H).to(dtype)
    cell = cell_from_layer(layer)
    assert next(cell.parameters()).dtype == dtype
    gen = torch.Generator().manual_seed(seed)
    xs = torch.randn(T, B, I, dtype=dtype, generator=gen, requires_grad=True)
    if kind == "lstm":
        h0 = torch.randn(B, H, dtype=dtype, generator=gen)
        c0 = torch.randn(B, H, dtype=dtype, generator=gen)
        out_ref, (hn, cn) = layer(xs, (h0[None], c0[None]))
        out, (h, c) = unroll(cell, xs, (h0, c0))
        assert (c - cn[0]).abs().max() <= TOL[dtype]
    else:
        h0 = torch.randn(B, H, dtype=dtype, generator=gen) * 0.5
        out_ref, hn = layer(xs, h0[None])
        out, h = unroll(cell, xs, h0)
    assert out.shape == (T, B, H)
    assert (out - out_ref).abs().max() <= TOL[dtype]
    assert (h - hn[0]).abs().max() <= TOL[dtype]
    # gradients through all T steps agree too (BPTT by autograd on both sides)
    w = torch.randn(out.shape, dtype=dtype, generator=gen)
    (g_ref,) = torch.autograd.grad((w * out_ref).sum(), xs)
    (g_mine,) = torch.autograd.grad((w * out).sum(), xs)
    scale = max(1.0, g_ref.abs().max().item())
    assert (g_ref - g_mine).abs().max() <= TOL[dtype] * scale


def test_unroll_also_runs_torch_cells_and_unbatched_sequences():
    torch.manual_seed(0)
    ref, mine = make_pair("lstm", 3, 4)
    xs = torch.randn(10, 3)  # (T, I) unbatched
    out_ref, (h_ref, _) = unroll(ref, xs)
    out, (h, _) = unroll(mine, xs)
    assert out.shape == (10, 4) and h.shape == (4,)
    assert (out - out_ref).abs().max() <= 1e-6


def test_cell_from_layer_picks_the_right_layer_and_direction():
    torch.manual_seed(1)
    layer = nn.GRU(3, 5, num_layers=2, bidirectional=True).double()
    xs = torch.randn(12, 2, 3, dtype=torch.float64)
    out_ref, _ = layer(xs)  # (T, B, 2H): layer 1's forward and backward halves
    first, _ = unroll(cell_from_layer(layer, 0), xs)
    first_rev, _ = unroll(cell_from_layer(layer, 0, reverse=True), xs.flip(0))
    l1_in = torch.cat([first, first_rev.flip(0)], dim=-1)
    second, _ = unroll(cell_from_layer(layer, 1), l1_in)
    assert (second - out_ref[..., :5]).abs().max() <= 1e-10
    with pytest.raises(ValueError, match="layer must be"):
        cell_from_layer(layer, 2)
    with pytest.raises(ValueError, match="proj_size"):
        cell_from_layer(nn.LSTM(3, 5, proj_size=2))
    with pytest.raises(TypeError):
        cell_from_layer(nn.Linear(3, 5))


# ----------------------------------------------------------------------------- gates and variants
def test_lstm_gates_are_returned_and_satisfy_the_equations():
    torch.manual_seed(2)
    cell = LSTMCellScratch(4, 6).double()
    xs = torch.randn(15, 3, 4, dtype=torch.float64)
    c0 = torch.randn(3, 6, dtype=torch.float64)
    out, (h, c), gates = unroll(cell, xs, (torch.zeros(3, 6, dtype=torch.float64), c0), True)
    plain, _ = unroll(cell, xs, (torch.zeros(3, 6, dtype=torch.float64), c0))
    assert (out - plain).abs().max() == 0  # returning gates changes nothing
    assert set(gates) == {"i", "f", "g", "o", "c"}
    assert all(v.shape == (15, 3, 6) for v in gates.values())
    c_prev = torch.cat([c0[None], gates["c"][:-1]])
    assert torch.allclose(gates["c"], gates["f"] * c_prev + gates["i"] * gates["g"], atol=1e-12)
    assert torch.allclose(out, gates["o"] * torch.tanh(gates["c"]), atol=1e-12)
    for k in "ifo":
        assert gates[k].min() > 0 and gates[k].max() < 1
    assert (gates["c"][-1] - c).abs().max() == 0


def test_gru_gates_follow_torch_reset_placement():
    torch.manual_seed(3)
    cell = GRUCellScratch(3, 4).double()
    x = torch.randn(2, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    h, g = cell(x, h0, return_gates=True)
    assert set(g) == {"r", "z", "n"}
    W_in, W_hn = cell.weight_ih[8:], cell.weight_hh[8:]
    b_in, b_hn = cell.bias_ih[8:], cell.bias_hh[8:]
    n = torch.tanh(x @ W_in.T + b_in + g["r"] * (h0 @ W_hn.T + b_hn))
    assert torch.allclose(g["n"], n, atol=1e-12)
    assert torch.allclose(h, (1 - g["z"]) * g["n"] + g["z"] * h0, atol=1e-12)


def test_lstm_variants_shapes_and_constant_gates():
    torch.manual_seed(4)
    x = torch.randn(5, 3, dtype=torch.float64)
    state = (torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64))
    per_block = 4 * 3 + 4 * 4 + 2 * 4
    expected = {
        "LSTM": ("ifgo", 4 * per_block),
        "без входного гейта": ("fgo", 3 * per_block),
        "без забывающего гейта": ("igo", 3 * per_block),
        "без выходного гейта": ("ifg", 3 * per_block),
        "связанные i и f": ("igo", 3 * per_block),
        "с замочными скважинами": ("ifgo", 4 * per_block + 3 * 4),
    }
    for name, (gate_names, n_params) in expected.items():
        cell = cells.make_lstm_variant(name, 3, 4).double()
        assert "".join(cell.gate_names) == gate_names, name
        assert count_parameters(cell) == n_params, name
        (h, c), g = cell(x, state, return_gates=True)
        assert torch.allclose(c, g["f"] * state[1] + g["i"] * g["g"], atol=1e-12), name
        assert torch.allclose(h, g["o"] * torch.tanh(c), atol=1e-12), name
        if name == "без входного гейта":
            assert (g["i"] == 1).all()
        if name == "без забывающего гейта":
            assert (g["f"] == 1).all()
        if name == "без выходного гейта":
            assert (g["o"] == 1).all()
        if name == "связанные i и f":
            assert torch.allclose(g["f"], 1 - g["i"])
    with pytest.raises(ValueError, match="unknown LSTM variant"):
        cells.make_lstm_variant("nope", 3, 4)


def test_peephole_with_zero_peepholes_is_the_standard_lstm_and_otherwise_looks_at_c():
    torch.manual_seed(5)
    ref, plain = make_pair("lstm", 3, 4)
    peep = LSTMCellScratch(3, 4, peephole=True)
    assert all((getattr(peep, f"weight_c{g}") == 0).all() for g in "ifo")  # starts as a plain LSTM
    with torch.no_grad():
        for name, p in plain.named_parameters():
            getattr(peep, name).copy_(p)
        for gate in "ifo":
            getattr(peep, f"weight_c{gate}").zero_()
    x, h0, c0 = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    assert max_diff(peep(x, (h0, c0)), ref(x, (h0, c0))) <= 1e-6
    with torch.no_grad():
        peep.weight_cf.fill_(3.0)
    (_, _), g = peep(x, (h0, c0), return_gates=True)
    (_, _), g0 = plain(x, (h0, c0), return_gates=True)
    expected_f = torch.sigmoid(torch.logit(g0["f"].double()) + 3.0 * c0.double())
    assert torch.allclose(g["f"].double(), expected_f, atol=1e-5)
    assert not peep.is_standard and plain.is_standard


def test_set_forget_bias_makes_f_close_to_sigmoid_of_value():
    torch.manual_seed(6)
    for module in [LSTMCellScratch(3, 8), nn.LSTMCell(3, 8)]:
        set_forget_bias(module, 2.0)
        with torch.no_grad():
            module.weight_ih.zero_()
            module.weight_hh.zero_()
        x = torch.randn(4, 3)
        if isinstance(module, LSTMCellScratch):
            _, g = module(x, return_gates=True)
            assert torch.allclose(g["f"], torch.full_like(g["f"], torch.sigmoid(torch.tensor(2.0))))
        b = (module.bias_ih + module.bias_hh)[8:16]
        assert torch.allclose(b, torch.full((8,), 2.0))
    deep = set_forget_bias(nn.LSTM(3, 5, num_layers=2), 1.0)
    assert torch.allclose((deep.bias_ih_l1 + deep.bias_hh_l1)[5:10], torch.ones(5))
    skip = LSTMCellScratch(3, 5, input_gate=False)
    set_forget_bias(skip, 1.5)  # the forget block is the first one here
    assert torch.allclose((skip.bias_ih + skip.bias_hh)[:5], torch.full((5,), 1.5))
    coupled = set_forget_bias(LSTMCellScratch(3, 5, coupled=True), 1.0)  # f = 1 - i: b_i = -1
    assert torch.allclose((coupled.bias_ih + coupled.bias_hh)[:5], torch.full((5,), -1.0))
    with pytest.raises(ValueError, match="no forget gate"):
        set_forget_bias(LSTMCellScratch(3, 5, forget_gate=False), 1.0)
    with pytest.raises(ValueError, match="bias=False"):
        set_forget_bias(LSTMCellScratch(3, 5, bias=False), 1.0)
    with pytest.raises(TypeError):
        set_forget_bias(nn.GRU(3, 5), 1.0)


# ----------------------------------------------------------------------------- parameter counts
@pytest.mark.parametrize("seed", range(6))
def test_parameter_count_formula_matches_torch(seed):
    rng = random.Random(seed)
    I, H = rng.randint(1, 50), rng.randint(2, 50)
    bias = seed % 2 == 0
    P = rng.randint(1, H - 1)
    assert expected_parameter_count("rnn", I, H, bias) == count_parameters(nn.RNN(I, H, bias=bias))
    assert expected_parameter_count("gru", I, H, bias) == count_parameters(nn.GRU(I, H, bias=bias))
    assert expected_parameter_count("lstm", I, H, bias) == count_parameters(
        nn.LSTM(I, H, bias=bias)
    )
    got = expected_parameter_count("lstm", I, H, bias, proj_size=P)
    assert got == count_parameters(nn.LSTM(I, H, bias=bias, proj_size=P))


def test_parameter_count_known_values_and_errors():
    # 4 blocks of (H*I + H*H + 2H): I=10, H=20 -> 4 * (200 + 400 + 40)
    assert expected_parameter_count("lstm", 10, 20) == 2560
    assert expected_parameter_count("gru", 10, 20) == 1920
    assert expected_parameter_count("rnn", 10, 20) == 640
    # projection to P=5: 4 * (200 + 100 + 40) + 5 * 20
    assert expected_parameter_count("lstm", 10, 20, proj_size=5) == 1460
    with pytest.raises(ValueError, match="only for the LSTM"):
        expected_parameter_count("gru", 10, 20, proj_size=5)
    with pytest.raises(ValueError, match="proj_size"):
        expected_parameter_count("lstm", 10, 20, proj_size=20)
    with pytest.raises(ValueError, match="kind"):
        expected_parameter_count("transformer", 10, 20)


# ----------------------------------------------------------------------------- errors
def test_clear_errors_for_bad_input():
    cell = LSTMCellScratch(3, 4)
    with pytest.raises(ValueError, match="input_size=3"):
        cell(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"shape \(B, I\)"):
        cell(torch.randn(2, 2, 3))
    with pytest.raises(ValueError, match="state h must have shape"):
        cell(torch.randn(2, 3), (torch.zeros(3, 4), torch.zeros(2, 4)))
    with pytest.raises(TypeError, match="tuple"):
        cell(torch.randn(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        cell([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCellScratch(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        GRUCellScratch(3, 0)
    with pytest.raises(ValueError, match="needs the input gate"):
        LSTMCellScratch(3, 4, coupled=True, input_gate=False)
    with pytest.raises(ValueError, match="empty"):
        unroll(cell, torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match=r"\(T, B, I\)"):
        unroll(cell, torch.zeros(3))
    with pytest.raises(TypeError, match="return_gates"):
        unroll(RNNCellScratch(3, 4), torch.zeros(5, 2, 3), return_gates=True)


def test_cell_sequence_classifier_learns_a_short_recall_task():
    from lecture_utils.tasks import delayed_recall, recall_vocab_size, train_sequence_model

    torch.manual_seed(0)
    n_in = recall_vocab_size(4)
    x, y = delayed_recall(512, delay=3, n_symbols=4, seed=1)
    model = CellSequenceClassifier(LSTMCellScratch(n_in, 16), output_size=4)
    assert model(x[:7]).shape == (7, 4)
    log = train_sequence_model(model, x, y, steps=120, batch_size=64, lr=2e-2, seed=0)
    with torch.no_grad():
        acc = (model(x).argmax(-1) == y).float().mean().item()
    assert log.loss[-1] < log.loss[0] / 3
    assert acc > 0.9
    with pytest.raises(ValueError, match="token ids"):
        model(torch.full((2, 5), n_in))


# ----------------------------------------------------------------------------- figures of notebook 06
def test_figures_are_returned_and_bad_input_is_rejected():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lecture_utils.cells import MemoryRun
    from lecture_utils.plots import cells as cell_plots

    torch.manual_seed(0)
    cell = LSTMCellScratch(3, 4)
    _, _, gates = unroll(cell, torch.randn(5, 1, 3), return_gates=True)
    gates = {k: v[:, 0] for k, v in gates.items()}  # (T, H)
    runs = [MemoryRun("a", 10, [2.0] * 30, 0.5, 1.0), MemoryRun("b", 20, [1.0] * 30, 1.0, 2.0, 5)]
    figures = [
        cell_plots.lstm_diagram(),
        cell_plots.gru_diagram(),
        cell_plots.gate_heatmaps(gates, list("abcde"), units=[3, 0]),
        cell_plots.gradient_distance_plot({"x": torch.rand(6)}),
        cell_plots.loss_curves(runs, "t", chance=2.08),
        cell_plots.variant_bars(runs),
        cell_plots.unit_traces([("p", {"s": [0.0, 1.0, 2.0]})], colors={"s": "red"}),
    ]
    for fig in figures:
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
        plt.close(fig)
    heat = cell_plots.gate_heatmaps(gates, list("abcde"), names=("f", "c"), units=[3, 0])
    assert heat.axes[0].images[0].get_array().shape == (2, 5)  # (units, T)
    plt.close(heat)
    with pytest.raises(ValueError, match="5 time steps"):
        cell_plots.gate_heatmaps(gates, list("abc"))
    with pytest.raises(KeyError, match="r"):
        cell_plots.gate_heatmaps(gates, list("abcde"), names=("r",))
    with pytest.raises(ValueError, match="at least one panel"):
        cell_plots.unit_traces([])


def test_memory_experiment_records_a_run_and_gradient_by_distance_shape():
    run = cells.memory_experiment(lambda n: GRUCellScratch(n, 8), "GRU", delay=2, steps=25)
    assert run.name == "GRU" and len(run.loss) == 25 and 0 <= run.accuracy <= 1
    assert run.n_params == count_parameters(GRUCellScratch(10, 8)) + 8 * 8 + 8
    assert run.seconds > 0
    g = cells.gradient_by_distance(LSTMCellScratch(3, 4), torch.randn(7, 2, 3))
    assert g.shape == (7,) and (g >= 0).all()
