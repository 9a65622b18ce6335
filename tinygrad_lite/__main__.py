"""The command line: ``tinygrad-lite report [--quick] [--out DIR]``.

Also ``python -m tinygrad_lite report ...``. ``report`` runs every experiment of CS231n
lecture 6 on built-in data and writes DIR/index.html (default ./report); progress goes to
stderr. The exit status is 0 when the report was written and every check passed, 1 when some
check failed or a section raised (the report is still written), 2 on a usage error or a
missing optional dependency or an unusable ``--out`` (checked before anything runs, with one
line saying what is wrong), 130 when interrupted (Ctrl-C; the previous report is left as it
was). ``tinygrad-lite --version`` prints the version.
"""
from __future__ import annotations

import argparse
import sys

#: the commands there are (one today)
COMMANDS = ("report",)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-lite",
        description="tinygrad_lite: an autograd engine on numpy that teaches how gradients flow.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"tinygrad-lite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    rep = sub.add_parser(
        "report", help="run the lecture's experiments and write an HTML report",
        description="Run every experiment of CS231n lecture 6 (Training Neural Networks I) on "
                    "built-in data and write one self-contained HTML report, DIR/index.html.")
    rep.add_argument("--quick", action="store_true",
                     help="smaller experiments: well under a minute (for CI)")
    rep.add_argument("--out", default="report", metavar="DIR",
                     help="output folder (default: ./report)")
    rep.add_argument("--sections", nargs="+", metavar="NAME", default=None,
                     help="run only these sections (backprop, activations, dead-relu, "
                          "preprocessing, weight-init, batch-norm, babysitting, search, "
                          "monitoring)")
    rep.add_argument("-q", "--no-progress", action="store_true",
                     help="no progress lines on stderr")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``tinygrad-lite`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "report":
        commands = ", ".join(COMMANDS)
        sys.stderr.write(f"tinygrad-lite: a command is needed; the commands are: {commands} "
                         f"(tinygrad-lite report --help for its options)\n")
        return 2
    from .report import MissingExtraError, build_report

    try:
        path = build_report(args.out, quick=args.quick, progress=not args.no_progress,
                            sections=args.sections)
    except (MissingExtraError, ValueError) as e:  # ValueError: --out or --sections
        sys.stderr.write(f"tinygrad-lite: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"tinygrad-lite: interrupted; {args.out!r} holds the previous report, "
                         f"if any, unchanged\n")
        return 130
    import json
    import os

    with open(os.path.join(os.path.dirname(path), "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    ok = all(not s["error"] and all(c["passed"] for c in s["checks"])
             for s in results["sections"])
    print(path)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
