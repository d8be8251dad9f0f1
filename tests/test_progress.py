"""The training console: the per-epoch summary line and the progress callback's timing."""
import io
import time

from paddle_tricks.engine.progress import TrainProgress, epoch_line, format_duration


def test_epoch_line_names_every_figure():
    record = {"epoch": 3, "train_loss": 1.23456, "eval_top1": 0.8125, "eval_top5": 0.975, "ema_top1": 0.8,
              "lr": 0.0123, "train_images_per_s": 312.04, "time": 41.24}
    line = epoch_line(record, 10, eta_seconds=288)
    assert line.startswith("epoch 3/10  train loss (epoch mean) 1.2346  eval top-1 0.8125 top-5 0.9750")
    assert "EMA top-1 0.8000" in line and "lr 0.0123" in line
    assert line.endswith("| 312.0 img/s  epoch 41.2 s  ETA 4m48s")
    assert "\n" not in line


def test_epoch_line_without_eval_or_ema_and_no_eta_after_the_last_epoch():
    line = epoch_line({"epoch": 10, "train_loss": 0.5, "lr": 0.1, "time": 3.0}, 10, eta_seconds=50)
    assert "eval" not in line and "EMA" not in line and "ETA" not in line
    assert "top-3" in epoch_line({"epoch": 1, "eval_top1": 0.5, "eval_top3": 0.9}, 2)


def test_format_duration():
    assert format_duration(5.04) == "5.0 s"
    assert format_duration(61) == "1m01s"
    assert format_duration(3 * 3600 + 125) == "3h02m"


def test_progress_counts_images_and_time_and_shows_the_running_mean():
    stream = io.StringIO()
    p = TrainProgress(start_epoch=4, total_epochs=9, steps_per_epoch=3, show=True, stream=stream)
    p.on_epoch_begin(0)
    means = []
    for step, loss in enumerate([3.0, 1.0, 5.0]):
        time.sleep(0.01)
        p.on_train_batch_end(step, {"loss": [loss], "batch_size": 8})
        means.append(p.running_loss)
        assert f"loss (running mean) {means[-1]:.4f}, training ETA " in p.bar.postfix
    p.on_epoch_end(0)
    assert means == [3.0, 2.0, 3.0]                 # the epoch's running mean, not the last batch's loss
    assert p.images == 24
    assert 0.03 <= p.train_seconds < 1.0
    assert abs(p.images_per_s - 24 / p.train_seconds) < 1e-9
    out = stream.getvalue()
    assert "epoch 5/9" in out                       # the run's epoch number, not fit()'s
    assert p.bar is None                            # closed at the end of the epoch


def test_the_training_eta_counts_the_batches_left_in_the_whole_run():
    # epoch 5 of 9 (start_epoch 4, fit's epoch 0), 4 batches each: after 1 batch, 3 + 4 * 4 = 19 are left
    p = TrainProgress(start_epoch=4, total_epochs=9, steps_per_epoch=4, show=True, stream=io.StringIO())
    p.on_epoch_begin(0)
    p.t0 = time.perf_counter() - 10.0               # as if the first batch took 10 s
    p.on_train_batch_end(0, {"loss": [1.0], "batch_size": 8})
    eta = p.bar.postfix.split("training ETA ")[1]
    assert eta in ("3m10s", "3m11s")                # 19 batches at 10 s, not 3 (this epoch's)
    p.on_epoch_end(0)
    p.on_epoch_begin(4)                             # the run's last epoch: only this epoch's batches are left
    p.t0 = time.perf_counter() - 6.0
    p.on_train_batch_end(0, {"loss": [1.0], "batch_size": 8})
    p.on_train_batch_end(1, {"loss": [1.0], "batch_size": 8})
    assert p.bar.postfix.split("training ETA ")[1] in ("6.0 s", "6.1 s")   # 2 left at 3 s each
    p.on_train_end()
