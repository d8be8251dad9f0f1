import numpy as np
import paddle
import pytest

from paddle_tricks.losses import RDropLoss, kl_term


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _np_sym_kl(a, b):
    lp, lq = _log_softmax(a.astype("float64")), _log_softmax(b.astype("float64"))
    p, q = np.exp(lp), np.exp(lq)
    kl_pq = (p * (lp - lq)).sum()
    kl_qp = (q * (lq - lp)).sum()
    return (kl_pq + kl_qp) / 2


def test_kl_zero_for_equal_logits():
    a = paddle.randn([4, 7])
    assert abs(float(kl_term(a, a))) < 1e-7
    assert abs(float(kl_term(a, a + 3.0))) < 1e-6  # softmax is shift invariant


def test_kl_symmetric_and_matches_numpy():
    a, b = np.random.randn(5, 6).astype("float32"), np.random.randn(5, 6).astype("float32")
    ta, tb = paddle.to_tensor(a), paddle.to_tensor(b)
    k_ab, k_ba = float(kl_term(ta, tb)), float(kl_term(tb, ta))
    assert k_ab == pytest.approx(k_ba, rel=1e-6)
    assert k_ab == pytest.approx(_np_sym_kl(a, b) / 5, rel=1e-5)  # batchmean
    assert float(kl_term(ta, tb, "sum")) == pytest.approx(_np_sym_kl(a, b), rel=1e-5)
    assert k_ab > 0


def test_kl_against_paddle_kl_div():
    a, b = paddle.randn([3, 4]), paddle.randn([3, 4])
    lp, lq = paddle.nn.functional.log_softmax(a), paddle.nn.functional.log_softmax(b)
    kl_pq = paddle.nn.functional.kl_div(lq, lp.exp(), reduction="batchmean")
    kl_qp = paddle.nn.functional.kl_div(lp, lq.exp(), reduction="batchmean")
    assert float(kl_term(a, b)) == pytest.approx(float((kl_pq + kl_qp) / 2), rel=1e-5)


@pytest.mark.parametrize("label_shape", ["B", "B1", "2B"])
def test_total_loss_equals_manual(label_shape):
    b, k, alpha = 4, 5, 0.7
    logits = np.random.randn(2 * b, k).astype("float32")
    y = np.random.randint(0, k, size=b)
    lab = {"B": y, "B1": y[:, None], "2B": np.concatenate([y, y])}[label_shape]
    loss = RDropLoss(alpha)(paddle.to_tensor(logits), paddle.to_tensor(lab.astype("int64")))
    ls = _log_softmax(logits.astype("float64"))
    yy = np.concatenate([y, y])
    ce = -ls[np.arange(2 * b), yy].mean()  # = 0.5 * (CE1 + CE2)
    ce1 = -ls[np.arange(b), y].mean()
    ce2 = -ls[b + np.arange(b), y].mean()
    assert ce == pytest.approx(0.5 * (ce1 + ce2))
    manual = ce + alpha * _np_sym_kl(logits[:b], logits[b:]) / b
    assert float(loss) == pytest.approx(manual, rel=1e-5)


def test_gradient_flows_into_both_passes():
    logits = paddle.randn([6, 3])
    logits.stop_gradient = False
    label = paddle.to_tensor([0, 1, 2])
    loss_fn = RDropLoss(alpha=1.0)
    loss_fn(logits, label).backward()
    g = logits.grad.numpy()
    assert np.abs(g[:3]).sum() > 0 and np.abs(g[3:]).sum() > 0
    # the KL part alone also gives gradients to both halves (neither side detached)
    logits.clear_gradient()
    kl_term(logits[:3], logits[3:]).backward()
    g = logits.grad.numpy()
    assert np.abs(g[:3]).sum() > 0 and np.abs(g[3:]).sum() > 0
    np.testing.assert_allclose(g[:3].sum(-1), 0, atol=1e-6)  # softmax-invariant direction


def test_with_dropout_model_one_concat_pass():
    paddle.seed(3)
    net = paddle.nn.Sequential(paddle.nn.Linear(4, 16), paddle.nn.Dropout(0.5), paddle.nn.Linear(16, 3))
    net.train()
    x = paddle.randn([5, 4])
    logits = net(paddle.concat([x, x]))
    assert float(RDropLoss.kl_term(logits[:5], logits[5:])) > 0  # dropout masks differ
    net.eval()
    logits = net(paddle.concat([x, x]))
    assert abs(float(kl_term(logits[:5], logits[5:]))) < 1e-7


def test_export_not_applicable_but_static_graph_works():
    # A loss is not exported for inference; check it traces under to_static (used by static training).
    loss_fn = RDropLoss(0.5)
    static_fn = paddle.jit.to_static(loss_fn.forward, full_graph=True)
    logits, label = paddle.randn([4, 3]), paddle.to_tensor([1, 2])
    assert float(static_fn(logits, label)) == pytest.approx(float(loss_fn(logits, label)), rel=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="2B"):
        RDropLoss()(paddle.randn([5, 3]), paddle.to_tensor([0, 1]))
    with pytest.raises(ValueError, match="rows"):
        RDropLoss()(paddle.randn([6, 3]), paddle.to_tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        RDropLoss(reduction="mean")
    with pytest.raises(ValueError, match="alpha"):
        RDropLoss(alpha=-1)
