"""`rnn-data list | fetch NAME | prepare NAME`: the dataset registry from the command line."""
import argparse
import sys

from ..data import all_sources, get_source
from .common import friendly


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake as one `error:` line (exit code 2) like every other rnnsuite error."""

    def error(self, message):
        print(f"error: {message} (`rnn-data --help` lists the commands)", file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    ap = Parser(prog="rnn-data", description="List, fetch and prepare rnnsuite datasets.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="registered datasets and whether they are fetched")
    for cmd in ("fetch", "prepare"):
        p = sub.add_parser(cmd, help=f"{cmd} a dataset into data/")
        p.add_argument("name")
        if cmd == "fetch":
            p.add_argument("--force", action="store_true", help="fetch again even if present")
    run(ap.parse_args(argv))
    return 0


@friendly
def run(args):
    if args.cmd == "list":
        for name, src in all_sources().items():
            mark = "fetched" if src.is_present(src.raw_dir) else "-"
            print(f"{name:22s} {mark:8s} {src.description}\n{'':31s}from {src.origin}")
    elif args.cmd == "fetch":
        src = get_source(args.name)
        print(f"{args.name}: {src.fetch(force=args.force)}")
    else:
        print(f"{args.name}: {get_source(args.name).prepare()}")


if __name__ == "__main__":
    sys.exit(main())
