"""The training engine. ``run_training`` (``engine.run``) is the command line's entry point; it is imported on
first use, so that reading ``engine.run_files`` does not load Paddle."""


def __getattr__(name):
    if name == "run_training":
        from .run import run_training
        return run_training
    raise AttributeError(f"module 'paddle_tricks.engine' has no attribute {name!r}")
