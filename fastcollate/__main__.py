"""Command line: `python -m fastcollate demo` and `python -m fastcollate inspect FILE`."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastcollate")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="collate a synthetic Higgs Audio batch with both backends and compare")
    demo.add_argument("--batch-size", type=int, default=16)
    demo.add_argument("--seed", type=int, default=0)
    from .diagnostics import inspect_cli

    inspect_parser = sub.add_parser("inspect", **inspect_cli.PARSER_KWARGS)
    inspect_cli.add_arguments(inspect_parser)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(batch_size=args.batch_size, seed=args.seed)
    if args.command == "inspect":
        return inspect_cli.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
