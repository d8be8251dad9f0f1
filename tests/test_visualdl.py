"""VisualDL logs hold train loss/accuracy, the learning rate per step, and eval and EMA metrics per epoch."""
import json

import pytest
from visualdl import LogReader

from test_trainer import tiny_cfg
from paddle_tricks.engine.trainer import Trainer


def test_logged_scalars(tmp_path):
    cfg = tiny_cfg(tmp_path, Global={"epochs": 2, "log_freq": 1})
    Trainer(cfg, log=lambda *_: None).fit()
    (path,) = (tmp_path / "vdl").glob("vdlrecords*")
    reader = LogReader(file_path=str(path))
    tags = set(reader.get_tags()["scalar"])
    assert {"train/loss", "train/acc_top1", "train/lr", "eval/top1", "eval/top5", "ema/top1"} <= tags
    lr = reader.get_data("scalar", "train/lr")
    assert len(lr) == 2 * 3                                  # 48 images / batch 16 = 3 steps, 2 epochs
    assert lr[0].value == pytest.approx(cfg["LR"]["warmup_start_lr"], rel=1e-5)   # step 0: warm-up start
    records = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    top1 = reader.get_data("scalar", "ema/top1")
    assert [t.id for t in top1] == [1, 2]
    assert [t.value for t in top1] == pytest.approx([r["ema_top1"] for r in records], rel=1e-6)
