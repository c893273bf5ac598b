"""The notebook 06 checks accept a correct step and reject typical wrong ones with a hint."""

from __future__ import annotations

import pytest
import torch

from lecture_utils.checks import cells as checks


def good_lstm(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def good_gru(x, h, W_ih, W_hh, b_ih, b_hh):
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def test_correct_steps_pass(capsys):
    assert checks.check_lstm_step(good_lstm) is True
    assert checks.check_gru_step(good_gru) is True
    out = capsys.readouterr().out
    assert out.count("✅ Верно") == 2


def test_template_is_reported_not_failed(capsys):
    def template(*args):
        raise NotImplementedError

    assert checks.check_lstm_step(template) is False
    assert checks.check_gru_step(template) is False
    assert capsys.readouterr().out.count("ещё не написана") == 2


def test_crash_and_none_are_explained():
    with pytest.raises(AssertionError, match="упала с ошибкой ZeroDivisionError"):
        checks.check_gru_step(lambda *a: 1 / 0)
    with pytest.raises(AssertionError, match="вернула None"):
        checks.check_gru_step(lambda *a: None)


def test_lstm_wrong_gate_order_is_named():
    def wrong(x, h, c, W_ih, W_hh, b_ih, b_hh):
        i, f, o, g = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c_new), c_new

    with pytest.raises(AssertionError, match="порядке ifog"):
        checks.check_lstm_step(wrong)


def test_lstm_other_mistakes():
    def no_bias_hh(x, h, c, W_ih, W_hh, b_ih, b_hh):
        return good_lstm(x, h, c, W_ih, W_hh, b_ih, torch.zeros_like(b_hh))

    def swapped(*args):
        h, c = good_lstm(*args)
        return c, h

    with pytest.raises(AssertionError, match="не совпадает с nn.LSTMCell"):
        checks.check_lstm_step(no_bias_hh)
    with pytest.raises(AssertionError, match="перепутаны местами"):
        checks.check_lstm_step(swapped)
    with pytest.raises(AssertionError, match="пару"):
        checks.check_lstm_step(lambda *a: good_lstm(*a)[0])
    with pytest.raises(AssertionError, match="форму"):
        checks.check_lstm_step(lambda *a: tuple(t[:, :1] for t in good_lstm(*a)))


def test_gru_paper_variant_and_swaps_get_hints():
    def paper(x, h, W_ih, W_hh, b_ih, b_hh):
        return checks.gru_step_reference(x, h, W_ih, W_hh, b_ih, b_hh, reset_after=False)

    def z_swapped(x, h, W_ih, W_hh, b_ih, b_hh):
        i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
        h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        return z * torch.tanh(i_n + r * h_n) + (1 - z) * h

    def rz_swapped(x, h, W_ih, W_hh, b_ih, b_hh):
        H = h.shape[1]
        perm = [*range(H, 2 * H), *range(H), *range(2 * H, 3 * H)]
        return good_gru(x, h, W_ih[perm], W_hh[perm], b_ih[perm], b_hh[perm])

    with pytest.raises(AssertionError, match="из статьи"):
        checks.check_gru_step(paper)
    with pytest.raises(AssertionError, match=r"z и \(1 − z\)"):
        checks.check_gru_step(z_swapped)
    with pytest.raises(AssertionError, match="перепутаны r и z"):
        checks.check_gru_step(rz_swapped)
    with pytest.raises(AssertionError, match="не совпадает с nn.GRUCell"):
        checks.check_gru_step(lambda *a: good_gru(*a) + 1e-3)
    with pytest.raises(AssertionError, match="один тензор"):
        checks.check_gru_step(lambda *a: (good_gru(*a),))
    with pytest.raises(AssertionError, match="тензором"):
        checks.check_gru_step(lambda *a: good_gru(*a).numpy())


def test_reference_steps_equal_torch_cells():
    torch.manual_seed(0)
    lstm, gru = torch.nn.LSTMCell(3, 4).double(), torch.nn.GRUCell(3, 4).double()
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 4, 4))
    with torch.no_grad():
        ref_h, ref_c = lstm(x, (h, c))
        my_h, my_c = checks.lstm_step_reference(
            x, h, c, lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh
        )
        assert (ref_h - my_h).abs().max() < 1e-12 and (ref_c - my_c).abs().max() < 1e-12
        ref = gru(x, h)
        mine = checks.gru_step_reference(
            x, h, gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh
        )
        assert (ref - mine).abs().max() < 1e-12
