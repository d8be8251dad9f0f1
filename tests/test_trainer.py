"""The trainer end to end on tiny data: outputs, EMA evaluation, exact resume, AMP wiring."""
import json
import os

import numpy as np
import paddle
import pytest
from paddle.callbacks import Callback

from paddle_tricks.config import validate
from paddle_tricks.engine.trainer import Trainer

NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def tiny_cfg(out, **sections):
    cfg = {
        "Global": {"output_dir": str(out), "epochs": 3, "seed": 7, "verbose": 0},
        "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35, "dropout": 0.2}},
        "Data": {"dataset": "quickstart", "batch_size": 16,
                 "options": {"num_per_class": 3, "eval_per_class": 1, "image_size": 32},
                 "train_transforms": [{"RandomHorizontalFlip": {}}, {"Transpose": {}}, NORM],
                 "eval_transforms": [{"Transpose": {}}, NORM]},
        "LR": {"name": "CosineWarmup", "base_lr": 0.05, "warmup_epochs": 1, "warmup_start_lr": 0.005},
        "EMA": {"enable": True, "decay": 0.9},
    }
    for sec, val in sections.items():
        cfg.setdefault(sec, {}).update(val)
    return validate(cfg)


def state(trainer):
    return {k: v.numpy().copy() for k, v in trainer.network.state_dict().items()}


class Interrupt(Exception):
    pass


class StopAtEpoch(Callback):
    """Interrupts ``fit`` when the given (0-based) epoch begins, after the previous one was saved."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch=None, logs=None):
        if epoch == self.epoch:
            raise Interrupt()


def test_run_writes_its_outputs_and_resume_is_exact(tmp_path):
    full = Trainer(tiny_cfg(tmp_path / "full"), log=lambda *_: None)
    summary = full.fit()
    out = tmp_path / "full"
    for name in ("config.yaml", "metrics.jsonl", "best.safetensors", "best.ema.safetensors", "best.json", "classes.json",
                 "checkpoints/latest.safetensors"):
        assert (out / name).is_file(), name
    assert any(f.startswith("vdlrecords") for f in os.listdir(out / "vdl"))
    # the class names in label order, for inference
    assert json.loads((out / "classes.json").read_text()) == [str(c) for c in full.datasets["train"].classes]
    assert len(full.datasets["train"].classes) == 16
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert {"eval_top1", "eval_top5", "ema_top1", "lr", "train_loss"} <= set(records[0])
    assert summary["best"]["metric"] == "ema_top1"   # best chosen by the EMA metric when EMA is on
    assert not [f for f in os.listdir(out / "checkpoints") if ".tmp" in f]

    # interrupted after epoch 1, then resumed: same final weights, same history
    cfg = tiny_cfg(tmp_path / "resumed")
    first = Trainer(cfg, log=lambda *_: None, callbacks=[StopAtEpoch(1)])
    with pytest.raises(Interrupt):
        first.fit()
    second = Trainer(cfg, log=lambda *_: None)
    second.fit(resume="auto")
    assert second.start_epoch == 1
    a, b = state(full), state(second)
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-6, atol=1e-7, err_msg=k)
    ema_a, ema_b = full.ema.weights(), second.ema.weights()
    for k in ema_a:
        np.testing.assert_allclose(ema_b[k].numpy(), ema_a[k].numpy(), rtol=1e-6, err_msg=k)
    resumed = [json.loads(x) for x in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
    for r1, r2 in zip(records, resumed):
        assert r1["eval_top1"] == r2["eval_top1"] and r1["lr"] == pytest.approx(r2["lr"])

    # resuming a finished run does nothing and says so
    msgs = []
    again = Trainer(cfg, log=msgs.append)
    again.fit(resume="auto")
    assert any("already finished" in m for m in msgs)


def test_evaluation_uses_the_ema_weights(tmp_path):
    t = Trainer(tiny_cfg(tmp_path, Global={"epochs": 1}, LR={"name": "Cosine", "warmup_epochs": 0}),
                log=lambda *_: None)
    t.fit()
    raw = t.evaluate()
    # the reported loss is the mean over the whole eval set (hapi alone gives the last batch's)
    from paddle_tricks.engine.evaluate import evaluate_network
    direct = evaluate_network(t.network, t.eval_loader, 16)
    assert raw["loss"] == pytest.approx(direct["loss"], rel=1e-5)
    assert raw["top1"] == pytest.approx(direct["top1"]) and raw["top5"] == pytest.approx(direct["top5"])
    t.ema.set_state_dict({k: paddle.zeros_like(v) for k, v in t.ema.weights().items()})   # very different
    with_ema = t.evaluate(ema=True)
    assert with_ema["loss"] == pytest.approx(np.log(16), rel=1e-4)  # all-zero net: uniform logits
    assert raw["loss"] != pytest.approx(with_ema["loss"])
    assert t.evaluate()["loss"] == pytest.approx(raw["loss"])         # raw weights restored


def test_amp_on_cpu_is_announced_and_not_passed(tmp_path):
    msgs = []
    t = Trainer(tiny_cfg(tmp_path, AMP={"enable": True, "level": "O2"}, Global={"device": "cpu"}), log=msgs.append)
    assert t.amp is None
    assert msgs == ["AMP O2 requested, but this run is on the CPU: training runs in fp32."]


def test_amp_configs_on_gpu_are_paddles_keys():
    from paddle_tricks.engine.device import amp_configs
    cfg = {"enable": True, "level": "O1", "init_loss_scaling": 1024.0, "incr_every_n_steps": 100,
           "decr_every_n_nan_or_inf": 2}
    got = amp_configs(cfg, "gpu")
    assert got == {"level": "O1", "init_loss_scaling": 1024.0, "incr_every_n_steps": 100,
                   "decr_every_n_nan_or_inf": 2}
    # every key except level is a GradScaler argument, as paddle.Model.prepare expects
    import inspect
    assert set(got) - {"level"} <= set(inspect.signature(paddle.amp.GradScaler).parameters)


def records_of(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_eval_every_2_epochs_ema_only_and_resume_is_exact(tmp_path):
    """Global.eval_interval=2 evaluates epochs 2 and 3 (the last); eval_weights=ema evaluates only the EMA weights
    and picks the best by them. A run stopped after the unevaluated epoch 1 and resumed ends as the uninterrupted
    run: weights, history (but times) and best."""
    opts = {"Global": {"eval_interval": 2, "eval_weights": "ema"}, "VisualDL": {"enable": False}}
    full = Trainer(tiny_cfg(tmp_path / "full", **opts), log=lambda *_: None)
    summary = full.fit()
    records = records_of(tmp_path / "full")
    assert not any(k.startswith(("eval_", "ema_")) for k in records[0])
    for r in records[1:]:
        assert {"ema_top1", "ema_top5", "ema_loss"} <= set(r) and not any(k.startswith("eval_") for k in r)
    assert summary["best"]["metric"] == "ema_top1" and summary["best"]["epoch"] in (2, 3)
    assert summary["message"].startswith("final EMA top-1")

    cfg = tiny_cfg(tmp_path / "resumed", **opts)
    with pytest.raises(Interrupt):
        Trainer(cfg, log=lambda *_: None, callbacks=[StopAtEpoch(1)]).fit()
    second = Trainer(cfg, log=lambda *_: None)
    assert second.fit(resume="auto")["best"] == summary["best"]
    a, b = state(full), state(second)
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-6, atol=1e-7, err_msg=k)
    untimed = [[{k: v for k, v in r.items() if k not in ("time", "train_images_per_s")} for r in rs]
               for rs in (records, records_of(tmp_path / "resumed"))]
    assert untimed[0] == untimed[1]
    best = [json.loads((tmp_path / d / "best.json").read_text()) for d in ("full", "resumed")]
    assert best[0]["epoch"] == best[1]["epoch"] and best[0]["value"] == best[1]["value"]


def test_which_weights_are_evaluated():
    from paddle_tricks.engine.epoch_end import evaluated_weights
    assert evaluated_weights("both", has_ema=True) == ["eval", "ema"]      # best by the last: EMA
    assert evaluated_weights("ema", has_ema=True) == ["ema"]
    assert evaluated_weights("raw", has_ema=True) == ["eval"]
    assert evaluated_weights("both", has_ema=False) == ["eval"]
    from paddle_tricks.config import ConfigError
    with pytest.raises(ConfigError, match="eval_weights=ema needs EMA.enable"):
        tiny_cfg("x", Global={"eval_weights": "ema"}, EMA={"enable": False})
