"""``Registry``: a name -> object table filled by a decorator, the extension point of every kind.

Datasets, learning-rate schedules, optimizers, losses and models each keep one ``Registry``; the config
schema takes its allowed names from them, so a new entry needs only its own file (or function) and a test.
Modelled on the registries of mmengine (``mmengine.registry.Registry``) and timm (``register_model``).
"""
from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

__all__ = ["Registry", "RegistryEntry", "UnknownNameError"]


class UnknownNameError(KeyError):
    """A name that is not registered; the message offers the nearest registered names."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


@dataclass(frozen=True)
class RegistryEntry:
    """One registered object and what it declared about itself (options, default settings, ...)."""

    name: str
    obj: Any
    info: dict = field(default_factory=dict)


class Registry:
    """Objects registered by name, in registration order.

    Args:
        kind: what the entries are ("dataset", "LR schedule", ...), used in error messages.
        hint: where to list the names, appended to the unknown-name error.
    """

    def __init__(self, kind: str, hint: str = ""):
        self.kind, self.hint = kind, hint
        self._entries: dict[str, RegistryEntry] = {}

    def register(self, name: str | None = None, **info) -> Callable[[Any], Any]:
        """Decorator: register the object under ``name`` (default: its ``__name__``) with ``info``."""
        def add(obj):
            key = name or obj.__name__
            old = self._entries.get(key)
            if old is not None and old.obj is not obj:
                raise ValueError(f"{self.kind} '{key}' is registered twice")
            self._entries[key] = RegistryEntry(key, obj, dict(info))
            return obj
        return add

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a temporary entry clean up with this)."""
        self._entries.pop(name, None)

    def unknown(self, name: str) -> UnknownNameError:
        """The error for an unregistered ``name``, offering the nearest registered names."""
        close = difflib.get_close_matches(str(name), list(self._entries), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
            f"; choose from {', '.join(self._entries)}"
        where = f" ({self.hint})" if self.hint else ""
        return UnknownNameError(f"unknown {self.kind} '{name}'{hint}{where}")

    def entry(self, name: str) -> RegistryEntry:
        """The entry of ``name``; ``UnknownNameError`` with the nearest names otherwise."""
        if name not in self._entries:
            raise self.unknown(name)
        return self._entries[name]

    def get(self, name: str) -> Any:
        """The object registered as ``name``."""
        return self.entry(name).obj

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names in registration order, optionally filtered by a glob ``pattern``."""
        return [n for n in self._entries if pattern is None or fnmatch.fnmatch(n, pattern)]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"
