"""Command line: `spinestudy demo`, `onboard`, `tables`, `pseudonym`, and the data versions: `changes`, `freeze`."""

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from spinestudy import config as configuration
from spinestudy import ids, pseudonym


def _demo(args) -> None:
    from spinestudy.demo.cohort import CENTRE_IDS, generate

    if not 1 <= args.centres <= len(CENTRE_IDS):
        raise SystemExit(f"--centres must be 1..{len(CENTRE_IDS)} (demo centre profiles {', '.join(CENTRE_IDS)})")
    manifest = generate(args.out, args.patients, list(CENTRE_IDS[: args.centres]), args.seed, args.jobs,
                        images=not args.tables_only)
    print(f"demo cohort written: {manifest}")


def _config(path: str) -> dict:
    """The validated config; a clear exit, not a traceback, when it is missing or invalid."""
    if not Path(path).is_file():
        raise SystemExit(f"no configuration file {path} here: run spinestudy in the project directory, "
                         "or give the project's config with --config PATH")
    try:
        return configuration.load(path)
    except configuration.ConfigError as exc:
        raise SystemExit(f"{path}: {exc}") from None


def _pseudonym(args) -> None:
    config = _config(args.config)
    if args.centre not in config["centres"]:
        raise SystemExit(f"centre {args.centre!r} is not in {args.config}: its centres are "
                         f"{', '.join(config['centres'])}")
    try:
        key = pseudonym.key_from_config(config)
    except pseudonym.MissingKeyError as exc:
        raise SystemExit(str(exc)) from None
    rules = config["centres"][args.centre].get("ids")
    for identifier in args.ids:
        try:
            print(f"{identifier}\t{pseudonym.patient(key, args.centre, ids.normalise(identifier, rules))}")
        except ids.IdError as exc:
            raise SystemExit(f"patient id {identifier!r} {exc} (centres.{args.centre}.ids)") from None


def _onboard(args) -> None:
    from spinestudy.onboard.run import onboard

    result = onboard(args.centre, args.files, args.out or f"config/onboard/{args.centre}.yaml", args.dictionary,
                     args.previous, args.dry_run, args.logs, args.study)
    print(f"profile: {result['profile']}\nmapping: {result['mapping']}")
    print("\n".join(result["notes"]))
    if args.previous:
        print(f"new or changed since {args.previous}: {len(result['changes'])}")
        print("\n".join(f"  {line}" for line in result["changes"]))
    for name in ("review", "unmatched"):
        print(f"{'to review (check)' if name == 'review' else 'unmatched (null: not collected)'}: "
              f"{len(result[name])}")
        print("\n".join(f"  {line}" for line in result[name]))
    print("\n".join(result["dry_run"]))


def _tables(args) -> None:
    import yaml

    from spinestudy import study
    from spinestudy.tables.coverage import CoverageError
    from spinestudy.tables.merge import build_tables
    from spinestudy.tables.readers import TableError

    config = _config(args.config)
    if args.centres:
        with open(args.centres) as fh:
            config = configuration.validate(config | {"centres": yaml.safe_load(fh)["centres"]})
    settings = config["tables"]
    try:
        build_tables(config["centres"], pseudonym.key_from_config(config), args.out,
                     on_invalid=settings["on_invalid"],
                     study_window=settings["study_window"], min_patients=settings["min_patients"],
                     resolution=settings.get("reader_resolution", "first"), lookup=args.lookup,
                     study=config.get("study", study.DEFAULT))
    except (TableError, CoverageError, study.StudyError) as exc:
        raise SystemExit(str(exc)) from None
    print(f"tables written to {args.out}")


def _current(results: str) -> tuple[Path, str]:
    root = Path(results) / "provenance"
    if not (root / "version.json").exists():
        raise SystemExit(f"no data version in {root}: run the workflow first (its provenance rule records one)")
    return root, json.loads((root / "version.json").read_text())["version"]


def _changes(args) -> None:
    from spinestudy.provenance import changes, store

    root, current = _current(args.results)
    alpha = 1 - _config(args.config)["stats"]["associations"]["confidence"]
    try:
        result = changes.write_changes(root, current, args.since, alpha, root / "changes.csv")
    except store.VersionNotFound as exc:
        raise SystemExit(str(exc))
    print(f"changes from {result['since']} to {current}: {root / 'changes.csv'}")
    for item, n in result["patients"].items():
        print(f"  patients {item}: {n}")
    print(f"  manuscript numbers moved: {result['numbers_moved']} ({result['flagged']} flagged)")


def _freeze(args) -> None:
    from spinestudy.provenance import store

    root, current = _current(args.results)
    try:
        store.freeze(root, args.name, current, datetime.now(timezone.utc).date().isoformat())
    except (ValueError, store.VersionNotFound) as exc:
        raise SystemExit(str(exc))
    print(f"release {args.name!r} = data version {current}")


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
    onboard = sub.add_parser("onboard", help="profile a new centre's files and propose its centre mapping")
    onboard.add_argument("centre")
    onboard.add_argument("files", nargs="+", help="CSV, XLSX, Parquet, SPSS (.sav) or Stata (.dta) files")
    onboard.add_argument("--out", help="the mapping written (default: config/onboard/CENTRE.yaml)")
    onboard.add_argument("--dictionary", help="REDCap data dictionary (CSV) of the files")
    onboard.add_argument("--previous", help="an earlier mapping of the centre: its approvals carry over")
    onboard.add_argument("--dry-run", action="store_true", help="read the approved entries with the table readers")
    onboard.add_argument("--logs", default="logs/onboard", help="where the column profile goes")
    onboard.add_argument("--study", help="the study whose variables are mapped: a name under config/studies/ or a "
                         "study file (default: the default study)")
    onboard.set_defaults(func=_onboard)
    pseudo = sub.add_parser("pseudonym", help="print the pseudonym of patient ids, to find a patient's files")
    pseudo.add_argument("centre")
    pseudo.add_argument("ids", nargs="+")
    pseudo.add_argument("--config", default="config/config.yaml", help="the project's config (default: %(default)s, "
                        "relative to the working directory)")
    pseudo.set_defaults(func=_pseudonym)
    tables = sub.add_parser("tables", help="run the tables stage alone, e.g. on the SPIDER gradings")
    tables.add_argument("--config", default="config/config.yaml")
    tables.add_argument("--centres", help="YAML file whose `centres` replace the config's (e.g. config/spider.yaml)")
    tables.add_argument("--out", required=True)
    tables.add_argument("--lookup", default="logs/tables/files.csv",
                        help="where the keyed label -> path of each table file goes (local, not for sharing)")
    tables.set_defaults(func=_tables)
    since = sub.add_parser("changes", help="what changed since a data version or release: results/provenance/changes.csv")
    since.add_argument("--since", required=True, help="a version id (history.csv) or a release name (releases.csv)")
    since.add_argument("--results", default="results")
    since.add_argument("--config", default="config/config.yaml")
    since.set_defaults(func=_changes)
    freeze = sub.add_parser("freeze", help="name the current data version as a release, e.g. submitted-2026-03")
    freeze.add_argument("name")
    freeze.add_argument("--results", default="results")
    freeze.set_defaults(func=_freeze)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
