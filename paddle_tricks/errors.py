"""Errors that mean "the user asked for something wrong", as opposed to bugs.

The command-line tools catch ``UserError`` and print its message on one line with exit code 2,
instead of a traceback. The message says what is wrong and what to do.
"""


class UserError(Exception):
    """A mistake in the user's input: config, data, checkpoint or command line."""


class ConfigError(UserError):
    """A malformed or invalid config."""


class DataError(UserError):
    """A missing or unusable dataset."""


class ExportError(UserError):
    """The network could not be exported, or the saved model does not reproduce the dygraph output."""


class CheckpointError(UserError):
    """A missing checkpoint, or one that does not fit the model."""
