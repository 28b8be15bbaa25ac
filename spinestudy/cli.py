"""Command line: `spinestudy demo ...` and `spinestudy pseudonym ...`."""

import argparse

from spinestudy import config as configuration
from spinestudy import pseudonym


def _demo(args) -> None:
    from spinestudy.demo import CENTRE_IDS, generate

    if not 1 <= args.centres <= len(CENTRE_IDS):
        raise SystemExit(f"--centres must be 1..{len(CENTRE_IDS)} (demo centre profiles {', '.join(CENTRE_IDS)})")
    manifest = generate(args.out, args.patients, list(CENTRE_IDS[: args.centres]), args.seed, args.jobs,
                        images=not args.tables_only)
    print(f"demo cohort written: {manifest}")


def _pseudonym(args) -> None:
    key = pseudonym.key_from_config(configuration.load(args.config))
    for identifier in args.ids:
        print(f"{identifier}\t{pseudonym.patient(key, args.centre, identifier)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="spinestudy", description=__doc__)
    sub = parser.add_subparsers(required=True)
    demo = sub.add_parser("demo", help="generate the synthetic multi-centre demo cohort")
    demo.add_argument("--out", default="resources/demo")
    demo.add_argument("--patients", type=int, default=40)
    demo.add_argument("--centres", type=int, default=2)
    demo.add_argument("--seed", type=int, default=20241121)
    demo.add_argument("--jobs", type=int, default=1, help="worker processes for the DICOM writing")
    demo.add_argument("--tables-only", action="store_true", help="write the tables only (large benchmark cohorts)")
    demo.set_defaults(func=_demo)
    pseudo = sub.add_parser("pseudonym", help="print the pseudonym of patient ids, to find a patient's files")
    pseudo.add_argument("centre")
    pseudo.add_argument("ids", nargs="+")
    pseudo.add_argument("--config", default="config/config.yaml")
    pseudo.set_defaults(func=_pseudonym)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
