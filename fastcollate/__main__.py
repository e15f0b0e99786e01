"""Command line: `--version`, `demo`, `info`, `inspect FILE` and `plan FILE`, as `python -m fastcollate ...` or the `fastcollate` console script."""

from __future__ import annotations

import argparse
import os
import sys


def program_name(argv0: str) -> str:
    """The name the user typed: `python -m fastcollate` runs this file as __main__.py, the console script
    runs under its own name."""
    base = os.path.basename(argv0)
    return "python -m fastcollate" if base in ("__main__.py", "-m", "-c", "") else base


def main(argv=None) -> int:
    prog = program_name(sys.argv[0] if sys.argv else "")
    parser = argparse.ArgumentParser(prog=prog)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"fastcollate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="collate a synthetic Higgs Audio batch with both backends and compare")
    demo.add_argument("--batch-size", type=int, default=16)
    demo.add_argument("--seed", type=int, default=0)
    sub.add_parser("info", help="version, backends (and why one is missing), CUDA, torch and numpy versions")
    from .diagnostics import inspect_cli

    inspect_parser = sub.add_parser("inspect", **inspect_cli.PARSER_KWARGS)
    inspect_cli.add_arguments(inspect_parser)
    from .packing import plan_cli

    plan_cli.add_arguments(sub.add_parser("plan", **plan_cli.PARSER_KWARGS))
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(batch_size=args.batch_size, seed=args.seed)
    if args.command == "info":
        from .info import run_info

        return run_info(prog)
    if args.command == "inspect":
        args.prog = f"{prog} inspect"
        return inspect_cli.run(args)
    if args.command == "plan":
        args.prog = f"{prog} plan"
        return plan_cli.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
