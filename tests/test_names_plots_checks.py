"""Tests for lecture_utils.plots.names and lecture_utils.checks.sampling (notebook 04)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lecture_utils.checks import sampling as checks  # noqa: E402
from lecture_utils.data import Vocab  # noqa: E402
from lecture_utils.names import names_vocab  # noqa: E402
from lecture_utils.plots import names as plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(fig):
    ax = fig.axes[0]
    return ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_plots_return_labelled_figures():
    figs = [
        plots.plot_loss_curves(
            {"a": [3, 2, 1.5, 1.7], "b": [3, 2.5, 2]}, references={"биграмма": 2.1}, mark_best=["a"]
        ),
        plots.plot_model_comparison({"биграмма": 2.07, "лекция": 2.0, "GRU": 1.7}, goal=1.7),
        plots.plot_length_distribution(["анна", "ия"], {"GRU": ["анна", "мария", ""]}),
        plots.plot_next_char_distribution(
            {"T=1": [0.5, 0.3, 0.2], "T=2": [0.4, 0.33, 0.27]}, ["а", " ", "<eos>"]
        ),
        plots.plot_generation_cost(
            [5, 10], {"с состоянием": [0.01, 0.02], "пересчёт": [0.02, 0.08]}
        ),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert _labelled(fig)
        assert fig.axes[0].get_legend() is not None
    # the best epoch of curve "a" is marked (a point at epoch 3, value 1.5)
    points = [line for line in figs[0].axes[0].lines if line.get_marker() == "o"]
    assert points and list(points[0].get_xdata()) == [3] and list(points[0].get_ydata()) == [1.5]


def test_plots_reject_empty_input():
    with pytest.raises(ValueError):
        plots.plot_loss_curves({})
    with pytest.raises(ValueError):
        plots.plot_model_comparison({})
    with pytest.raises(ValueError):
        plots.plot_length_distribution([], {})


# ----------------------------------------------------------------------------- checks


def test_check_temperature(capsys):
    assert checks.check_temperature(lambda z, t: torch.softmax(z / t, -1))
    assert "✅" in capsys.readouterr().out

    def todo(z, t):
        raise NotImplementedError

    assert checks.check_temperature(todo) is False
    with pytest.raises(AssertionError, match="умножены"):
        checks.check_temperature(lambda z, t: torch.softmax(z * t, -1))
    with pytest.raises(AssertionError, match="температура не учтена"):
        checks.check_temperature(lambda z, t: torch.softmax(z, -1))
    with pytest.raises(AssertionError, match="логиты"):
        checks.check_temperature(lambda z, t: z / t)
    with pytest.raises(AssertionError, match="return"):
        checks.check_temperature(lambda z, t: None)
    with pytest.raises(AssertionError, match="упала"):
        checks.check_temperature(lambda z, t: z.nonexistent())


def _top_k(z, k):
    kth = torch.topk(z, k).values[-1]
    return torch.softmax(z.masked_fill(z < kth, float("-inf")), -1)


def test_check_top_k(capsys):
    assert checks.check_top_k(_top_k)
    assert "✅" in capsys.readouterr().out

    def not_renormalised(z, k):
        p = torch.softmax(z, -1)
        keep = torch.zeros_like(p, dtype=torch.bool)
        keep[torch.topk(z, k).indices] = True
        q = p * keep
        return q / q.sum() * 0.999 + (1 - keep.double()) * 0.001 / max(1, len(z) - k)

    with pytest.raises(AssertionError, match="ненулевых"):
        checks.check_top_k(not_renormalised)

    def lowest(z, k):
        return _top_k(-z, k)

    with pytest.raises(AssertionError, match="не самые вероятные"):
        checks.check_top_k(lowest)


def test_check_make_pair(capsys):
    vocab = names_vocab(["анна", "ия", "ольга"])
    assert checks.check_make_pair(
        lambda n, v: ([v.bos, *v.encode(n)], [*v.encode(n), v.eos]), vocab
    )
    assert "✅" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="перепутаны"):
        checks.check_make_pair(lambda n, v: ([*v.encode(n), v.eos], [v.bos, *v.encode(n)]), vocab)
    with pytest.raises(AssertionError, match="<bos>"):
        checks.check_make_pair(lambda n, v: (v.encode(n), [*v.encode(n)[1:], v.eos]), vocab)
    with pytest.raises(AssertionError, match="длины"):
        checks.check_make_pair(lambda n, v: ([v.bos, *v.encode(n)], v.encode(n)), vocab)
    with pytest.raises(ValueError, match="<bos> and <eos>"):
        checks.check_make_pair(lambda n, v: None, Vocab.from_text("аб"))
