"""`rnn-data list | fetch NAME | prepare NAME`: the dataset registry from the command line."""
import argparse
import sys

from ..data import DataError, all_sources, get_source


def main(argv=None):
    ap = argparse.ArgumentParser(prog="rnn-data", description="List, fetch and prepare rnnsuite datasets.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="registered datasets and whether they are fetched")
    for cmd in ("fetch", "prepare"):
        p = sub.add_parser(cmd, help=f"{cmd} a dataset into data/")
        p.add_argument("name")
        if cmd == "fetch":
            p.add_argument("--force", action="store_true", help="fetch again even if present")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "list":
            for name, src in all_sources().items():
                mark = "fetched" if src.is_present(src.raw_dir) else "-"
                print(f"{name:22s} {mark:8s} {src.description}\n{'':31s}from {src.origin}")
        elif args.cmd == "fetch":
            src = get_source(args.name)
            print(f"{args.name}: {src.fetch(force=args.force)}")
        else:
            print(f"{args.name}: {get_source(args.name).prepare()}")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
