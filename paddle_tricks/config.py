"""YAML configs: ``_base_`` inheritance, ``-o Section.key=value`` overrides, validation.

A config is a mapping of sections (``Global``, ``Arch``, ``Data``, ``Optimizer``, ``LR``, ``Loss``, ``EMA``,
``AMP``, ``VisualDL``). ``SCHEMA`` below lists every key with its type and default; anything else is rejected
with the nearest valid name, so a typo never passes silently. The names of datasets, models, LR schedules,
optimizers and losses come from their registries, and ``Data.options`` / ``Arch.options`` are checked against
the options the chosen dataset and model declare (``data.registry``, ``models.registry``), before anything is
built. Transform arguments and tricks are checked where they are built.

``_base_`` (a path or a list of paths, relative to the file) is loaded first and the file's own keys
are merged over it, section by section. ``-o`` values are parsed as YAML (``-o Global.epochs=3``,
``-o Data.train_transforms=[]``).
"""
from __future__ import annotations

import copy
import os
from typing import Any

import yaml

from .data.registry import DATASETS, check_dataset_options
from .errors import ConfigError
from .losses import LOSSES
from .models.registry import MODELS, check_model_options
from .optim import LR_SCHEDULES, OPTIMIZERS
from .utils.schema import (Key, boolean, choice, int_range, is_int, mapping, nearest, nonneg_int, num, pos_int,
                           sequence, shown, string)

__all__ = ["SCHEMA", "load_config", "parse_overrides", "apply_overrides", "validate", "dump_config",
           "ConfigError"]


# A softmax over one class always outputs probability 1: the loss is 0 and nothing is learned.
ONE_CLASS = "Arch.num_classes must be at least 2 (a softmax over one class always gives probability 1, " \
    "so its loss is 0 and nothing is learned)"
# NumPy seeds its generators with integers below 2**32; the data order and workers derive theirs from this one.
MAX_SEED = 2 ** 32 - 1
# 100,000 classes need a 400 MB head on a 1024-feature backbone (ImageNet-21k has 21,841).
MAX_CLASSES = 100_000

SCHEMA: dict[str, dict[str, Key]] = {
    "Global": {
        "output_dir": string("output/run", "folder for checkpoints, logs and the resolved config"),
        "epochs": pos_int(10, "training epochs"),
        "device": choice("auto", ["auto", "gpu", "cpu"], "auto = GPU when Paddle has CUDA and one is visible"),
        "seed": int_range(42, 0, MAX_SEED, "seed for Python, NumPy and Paddle (reproducible runs)"),
        "eval_interval": pos_int(1, "evaluate every N epochs (and always after the last)"),
        "eval_backend": choice("auto", ["auto", "dygraph", "inference"],
                               "how the eval set is run: inference = export the weights and run a paddle.inference "
                               "CPU predictor (2.5x faster for MobileNetV2 on Caltech-16, export included); auto = "
                               "on a CPU with one process, the predictor when a dygraph evaluation takes over 5 s "
                               "and the predictor proves faster (engine.exported_eval)"),
        "eval_weights": choice("both", ["both", "ema", "raw"],
                               "weights evaluated when EMA is on: both (raw and EMA; compare and report read the "
                               "raw eval_top1), ema or raw only (one pass over the eval set instead of two). The "
                               "best checkpoint follows the EMA top-1 unless only raw is evaluated"),
        "log_freq": pos_int(10, "progress-bar update every N steps"),
        "resume": string(None, "null, 'auto' (resume if a checkpoint exists) or a checkpoint path", optional=True),
        "verbose": choice(1, [0, 1, 2], "0 silent, 1 progress bar, 2 one line per log step"),
    },
    "Arch": {
        "name": string(None, "registered model name (paddle_tricks.models.list_models())"),
        "num_classes": pos_int(1000, f"number of classes, 2 to {MAX_CLASSES:,}"),
        "options": mapping("options of the model, checked against its constructor's signature"),
        "tricks": mapping("tricks switched on for the whole net (see paddle_tricks.tricks)"),
        "pretrained": string(None, "weights (.pdparams) to start from", optional=True),
    },
    "Data": {
        "dataset": choice("caltech16", DATASETS.names, "dataset (paddle_tricks.data.DATASETS)"),
        "root": string(None, "dataset folder (Caltech-101 root, Fashion-MNIST folder, ...)", optional=True),
        "batch_size": pos_int(32, "training batch size (of one step over all processes; see batch_size_is)"),
        "batch_size_is": choice("global", ["global", "per_process"],
                                "with several processes: global = batch_size is split among them, same LR (the "
                                "single-process recipe); per_process = each takes batch_size and the LR is "
                                "scaled by the process count (engine.data_parallel)"),
        "eval_batch_size": pos_int(None, "evaluation batch size (default: batch_size)", optional=True),
        "num_workers": nonneg_int(0, "DataLoader worker processes"),
        "prefetch": nonneg_int(0, "with num_workers 0: batches a background thread prepares ahead while the "
                                  "model trains; the same batches either way. Off by default: on 2 busy cores the "
                                  "thread slowed MobileNetV2 112 px steps (median 1.06x), the inline data wait "
                                  "being 2% of a step"),
        "train_transforms": sequence([], "list of {TransformName: {args}}"),
        "eval_transforms": sequence([], "list of {TransformName: {args}}"),
        "options": mapping("options of the dataset, checked against the ones it declares"),
        "limit_train": pos_int(None, "use only the first N training samples (smoke tests)", optional=True),
        "limit_eval": pos_int(None, "use only the first N evaluation samples (smoke tests)", optional=True),
    },
    "Optimizer": {
        "name": choice("Momentum", OPTIMIZERS.names, "optimizer (paddle_tricks.optim.OPTIMIZERS)"),
        "momentum": num(0.9, "momentum (Momentum)", lo=0, hi=1, hi_open=True),
        "nesterov": boolean(False, "Nesterov momentum (Momentum)"),
        "weight_decay": num(1e-4, "L2 decay (Momentum/SGD) or decoupled decay (AdamW)", lo=0),
        "no_weight_decay_bn_bias": boolean(False, "exempt BN weights/biases and all biases from weight decay"),
        "beta1": num(0.9, "AdamW beta1", lo=0, hi=1, hi_open=True),
        "beta2": num(0.999, "AdamW beta2", lo=0, hi=1, hi_open=True),
        "grad_clip": num(None, "clip the global gradient norm to this value", lo=0, lo_open=True, optional=True),
    },
    "LR": {
        "name": choice("Cosine", LR_SCHEDULES.names, "learning-rate schedule (paddle_tricks.optim.LR_SCHEDULES)"),
        "base_lr": num(0.01, "peak learning rate", lo=0, lo_open=True),
        "warmup_epochs": num(0, "linear warm-up length in epochs (CosineWarmup)", lo=0),
        "warmup_start_lr": num(0.0, "learning rate at the first warm-up step", lo=0),
        "eta_min": num(0.0, "learning rate at the last iteration (Cosine, CosineWarmup)", lo=0),
        "milestones": sequence([], "epochs at which Piecewise multiplies the LR by gamma",
                               item=lambda v: is_int(v) and v > 0, kind="a list of positive integers"),
        "gamma": num(0.1, "Piecewise factor", lo=0, lo_open=True),
    },
    "Loss": {
        "name": choice("CrossEntropy", LOSSES.names, "loss (paddle_tricks.losses.LOSSES)"),
        "label_smoothing": num(0.0, "label smoothing epsilon", lo=0, hi=1, hi_open=True),
        "rdrop_alpha": num(0.0, "R-Drop weight of the symmetric KL term; > 0 turns R-Drop on", lo=0),
    },
    "EMA": {
        "enable": boolean(False, "keep an exponential moving average of the weights"),
        "decay": num(0.9999, "EMA decay", lo=0, hi=1, lo_open=True, hi_open=True),
        "warmup": boolean(True, "use min(decay, (1+t)/(10+t)) so short runs are not stuck near the init"),
        "interval": pos_int(1, "update the EMA every N optimizer steps, with decay**N"),
    },
    "AMP": {
        "enable": boolean(False, "automatic mixed precision (GPU only; CPU trains in fp32)"),
        "level": choice("O1", ["O1", "O2"], "AMP level"),
        "init_loss_scaling": num(65536.0, "initial loss scale", lo=1),
        "incr_every_n_steps": pos_int(2000, "raise the loss scale after N good steps"),
        "decr_every_n_nan_or_inf": pos_int(1, "lower the loss scale after N bad steps"),
    },
    "VisualDL": {
        "enable": boolean(True, "write VisualDL logs to <output_dir>/vdl"),
    },
}

SECTIONS = list(SCHEMA)


def defaults() -> dict:
    """A config holding every default."""
    return {sec: {k: copy.deepcopy(key.default) for k, key in keys.items()} for sec, keys in SCHEMA.items()}


def _merge(base: dict, new: dict) -> dict:
    out = copy.deepcopy(base)
    for sec, val in new.items():
        if isinstance(val, dict) and isinstance(out.get(sec), dict):
            merged = dict(out[sec])
            merged.update(copy.deepcopy(val))
            out[sec] = merged
        else:
            out[sec] = copy.deepcopy(val)
    return out


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key given twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # the base class reports unhashable keys
            if key in seen:
                raise ConfigError(f"duplicate key '{key}' at line {key_node.start_mark.line + 1} "
                                  f"(first at line {seen[key] + 1}); YAML would silently keep the last value")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)

    MAX_VALUES = 100_000

    def construct_document(self, node):
        """Refuse a document whose aliases (``*name``) expand to a huge tree (a "billion laughs") before any
        of it is built, walked or printed."""
        sizes: dict[int, int] = {}

        def expanded(n) -> int:
            if id(n) not in sizes:
                sizes[id(n)] = 1  # a recursive alias counts once
                kids = [c for kv in n.value for c in kv] if isinstance(n, yaml.MappingNode) else (
                    n.value if isinstance(n, yaml.SequenceNode) else [])
                sizes[id(n)] = 1 + sum(expanded(c) for c in kids)
            return sizes[id(n)]
        if expanded(node) > self.MAX_VALUES:
            raise ConfigError(f"its aliases (*name) expand to {expanded(node):,} values, more than "
                              f"{self.MAX_VALUES:,}; a config never needs that many")
        return super().construct_document(node)


def _read_yaml(path: str) -> dict:
    if os.path.isdir(path):
        raise ConfigError(f"config file not found: {path} is a folder")
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=_StrictLoader)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping of sections, got {type(data).__name__}")
    return data


def _load_raw(path: str, stack: tuple[str, ...] = ()) -> dict:
    path = os.path.abspath(path)
    if path in stack:
        chain = " -> ".join(os.path.basename(p) for p in stack + (path,))
        raise ConfigError(f"circular _base_ chain: {chain}")
    data = _read_yaml(path)
    bases = data.pop("_base_", None)
    if bases is None:
        return data
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}: _base_ must be a path or a list of paths")
    merged: dict = {}
    for base in bases:
        base_path = os.path.join(os.path.dirname(path), base)
        if not os.path.isfile(base_path):
            raise ConfigError(f"{path}: _base_ file not found: {base} (looked at {base_path})")
        merged = _merge(merged, _load_raw(base_path, stack + (path,)))
    return _merge(merged, data)


def parse_overrides(items: list[str] | None) -> list[tuple[list[str], Any]]:
    """Parse ``Section.key=value`` strings; values are YAML (``3``, ``true``, ``[1, 2]``, ``null``)."""
    out = []
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"override '{item}' must look like Section.key=value")
        lhs, rhs = item.split("=", 1)
        path = lhs.strip().split(".")
        if len(path) < 2 or not all(path):
            raise ConfigError(f"override '{item}': the key must be Section.key (for example Global.epochs=3)")
        try:
            value = yaml.safe_load(rhs) if rhs.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"override '{item}': the value '{rhs}' is not valid YAML") from None
        out.append((path, value))
    return out


def apply_overrides(cfg: dict, overrides: list[tuple[list[str], Any]]) -> dict:
    """Set each ``(path, value)`` in ``cfg`` (nested keys below a section create mappings as needed)."""
    cfg = copy.deepcopy(cfg)
    for path, value in overrides:
        node = cfg
        for part in path[:-1]:
            if part not in node or not isinstance(node[part], dict):
                if node.get(part) is not None and not isinstance(node[part], dict):
                    raise ConfigError(f"override {'.'.join(path)}: {part} is not a section")
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
    return cfg


def _as_number(v):
    """``'1e-3'`` -> ``0.001``: PyYAML (YAML 1.1) reads exponent floats without a dot as strings."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def validate(cfg: dict, notice=None) -> dict:
    """Check sections, keys and types; fill defaults; cross-check related keys. Returns the full config.

    ``notice`` (a callable taking one line) hears of a value adapted rather than refused: a CosineWarmup
    warm-up not shorter than the run (``-o Global.epochs=1`` on a config with a 1-epoch warm-up) is cut to
    half the run.
    """
    for sec in cfg:
        if sec not in SCHEMA:
            raise ConfigError(f"unknown section '{sec}'{nearest(sec, SECTIONS)}")
    full = defaults()
    for sec, val in cfg.items():
        if val is None:
            continue
        if not isinstance(val, dict):
            raise ConfigError(f"section '{sec}' must be a mapping of keys, got {shown(val)}")
        for k, v in val.items():
            if k not in SCHEMA[sec]:
                raise ConfigError(f"unknown key '{sec}.{k}'{nearest(k, list(SCHEMA[sec]))}")
            key = SCHEMA[sec][k]
            v = _as_number(v) if key.kind.startswith("a number") else v
            if isinstance(key.default, float) and is_int(v):
                v = float(v)
            if not key.check(v):
                raise ConfigError(f"{sec}.{k} must be {key.kind}, got {shown(v)}")
            full[sec][k] = v
    _check_components(full)
    g, lr = full["Global"], full["LR"]
    if lr["warmup_epochs"] and lr["name"] != "CosineWarmup":
        raise ConfigError(f"LR.warmup_epochs is only used by LR.name=CosineWarmup, not {lr['name']}")
    if lr["name"] == "CosineWarmup" and lr["warmup_epochs"] >= g["epochs"]:
        shorter = g["epochs"] / 2
        if notice is not None:
            notice(f"note: LR.warmup_epochs={lr['warmup_epochs']} is not shorter than Global.epochs={g['epochs']}: "
                   f"the warm-up is shortened to {shorter:g} epoch(s)")
        lr["warmup_epochs"] = shorter
    if lr["eta_min"] > lr["base_lr"]:
        raise ConfigError(f"LR.eta_min={lr['eta_min']} must not exceed LR.base_lr={lr['base_lr']}")
    if any(m >= g["epochs"] for m in lr["milestones"]):
        raise ConfigError(f"LR.milestones {lr['milestones']} must all be below Global.epochs={g['epochs']}")
    if g["eval_weights"] == "ema" and not full["EMA"]["enable"]:
        raise ConfigError("Global.eval_weights=ema needs EMA.enable: true (without EMA only the raw weights "
                          "exist); use both or raw")
    if full["Loss"]["rdrop_alpha"] > 0 and full["Loss"]["label_smoothing"] > 0:
        raise ConfigError("Loss.rdrop_alpha and Loss.label_smoothing cannot be combined; set one of them to 0")
    for which in ("train_transforms", "eval_transforms"):
        for i, t in enumerate(full["Data"][which]):
            if not (isinstance(t, str) or (isinstance(t, dict) and len(t) == 1)):
                raise ConfigError(f"Data.{which}[{i}] must be a name or a one-key mapping "
                                  f"{{Name: {{args}}}}, got {shown(t)}")
    return full


def _check_components(full: dict) -> None:
    """The model and dataset exist, their options are theirs and in bounds, and the head has >= 2 classes."""
    arch, data = full["Arch"], full["Data"]
    if not arch["name"]:
        raise ConfigError("Arch.name is missing: name a model (paddle_tricks.models.list_models())")
    if arch["num_classes"] == 1:
        raise ConfigError(ONE_CLASS)
    if arch["num_classes"] > MAX_CLASSES:
        raise ConfigError(f"Arch.num_classes must be at most {MAX_CLASSES:,}, got {arch['num_classes']}")
    if arch["name"] not in MODELS:
        raise ConfigError(f"Arch.name: {MODELS.unknown(arch['name'])}")
    arch["options"] = check_model_options(arch["name"], arch["options"], "Arch.options")
    data["options"] = check_dataset_options(data["dataset"], data["options"], "Data.options")


def load_config(path: str, overrides: list[str] | None = None, notice=None) -> dict:
    """Load ``path`` with its ``_base_`` chain, apply ``-o`` overrides, validate and fill defaults
    (``notice``: see ``validate``)."""
    raw = _load_raw(path)
    raw = apply_overrides(raw, parse_overrides(overrides))
    return validate(raw, notice)


def dump_config(cfg: dict, path: str) -> None:
    """Write the resolved config as YAML (atomically: a temporary file, then a rename)."""
    from .utils.atomic import atomic_write_text
    atomic_write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), path)
