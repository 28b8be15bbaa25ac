"""Record RuDDS's outputs for tests/test_workflow.py's comparison: `python tests/record_rudds_outputs.py WORKDIR`
with WORKDIR the workflow test's directory (pytest --basetemp=DIR tests/test_workflow.py; DIR/workflow0).
Writes tests/rudds_outputs.zip (the files, fixed timestamps) and tests/rudds_digests.json (their sha256 and
this machine's floating-point fingerprint)."""

import hashlib
import json
import sys
import zipfile
from pathlib import Path

from test_workflow import DIGESTED, RECORDED, REFERENCE, float_fingerprint


def main(workdir: Path) -> None:
    results = workdir / "results"
    files = {str(path.relative_to(results)): path.read_bytes()
             for folder, pattern in DIGESTED.items() for path in sorted((results / folder).rglob(pattern))}
    with zipfile.ZipFile(REFERENCE, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 2, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    RECORDED.write_text(json.dumps({"fingerprint": float_fingerprint(), "sha256": digests}, indent=1,
                                   sort_keys=True) + "\n")
    print(f"recorded {len(files)} files")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
