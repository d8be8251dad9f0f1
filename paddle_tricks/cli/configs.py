"""``paddle-tricks configs``: list the shipped configs, which ``-c`` takes by name."""
from __future__ import annotations

import argparse

from ..utils.console import user_errors

__all__ = ["configs_main"]


@user_errors
def configs_main(argv=None) -> int:
    """Print the name of every shipped config, then the folder they are installed in."""
    parser = argparse.ArgumentParser(prog="paddle-tricks configs",
                                     description="List the shipped configs (use a name with -c).")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("-l", "--long", action="store_true", help="print each config's description beside its name")
    shown.add_argument("--path", action="store_true", help="print the file of each config beside its name")
    args = parser.parse_args(argv)
    from ..configs import CONFIG_DIR, describe_config, list_configs, resolve_config
    names = list_configs()
    width = max(len(n) for n in names)
    for name in names:
        extra = describe_config(name) if args.long else resolve_config(name) if args.path else ""
        print(f"{name:<{width}}  {extra}" if extra else name)
    print(f"(installed in {CONFIG_DIR}; e.g. paddle-tricks train -c quickstart)")
    return 0
