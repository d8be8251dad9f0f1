"""engine.builder: the components of a run, and the one private ``paddle.Model`` attribute the engine uses."""
import inspect

from paddle.hapi.model import DynamicGraphAdapter

from test_trainer import tiny_cfg
from paddle_tricks.engine.builder import build_components, grad_scaler


def test_hapi_still_keeps_its_loss_scaler_in_model_scaler():
    # the builder creates the GradScaler up front in Model._scaler; hapi must use that attribute and create its
    # own only when it is None, or a restored loss scale would be ignored
    src = inspect.getsource(DynamicGraphAdapter.train_batch)
    assert "if self._amp_level != \"O0\" and self.model._scaler is None:" in src
    assert "self.model._scaler.minimize(self.model._optimizer, scaled)" in src


def test_components_fit_together(tmp_path):
    c = build_components(tiny_cfg(tmp_path, EMA={"enable": True}), "cpu", log=lambda *_: None)
    assert c.model.network is c.network
    assert len(c.train_loader) == 3 and c.classes and len(c.classes) == 16
    # one training batch through paddle.Model moves the network's weights, at the schedule's learning rate
    assert c.optimizer.get_lr() == c.lr.get_lr() == tiny_cfg(tmp_path)["LR"]["warmup_start_lr"]
    before = {k: v.numpy().copy() for k, v in c.network.state_dict().items()}
    images, labels = next(iter(c.train_loader))
    c.model.train_batch([images], [labels])
    changed = [k for k, v in c.network.state_dict().items() if (v.numpy() != before[k]).any()]
    assert "fc.weight" in changed and "stem.conv.weight" in changed
    assert c.ema is not None and set(c.ema.weights()) <= set(c.network.state_dict())
    assert c.amp is None and grad_scaler(c.model) is None       # CPU: fp32, no scaler
