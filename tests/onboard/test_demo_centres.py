"""The demo's four centres: the proposed mapping, once its check entries are approved, is the demo's own
mapping (readers.demo_mapping, derived from the generator's CENTRE_FORMATS; codes: those the small cohort's
files hold) and reads without a problem."""

import pytest
import yaml
from tables_corpus import KEY, demo

from spinestudy.onboard.run import onboard
from spinestudy.tables.readers import read_clinical, read_gradings


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return folder, demo(folder, n=24)[2]


@pytest.mark.parametrize("centre", ["A", "B", "C", "D"])
def test_demo_centre_mapping_is_proposed(cohort, tmp_path, centre):
    folder, truth = cohort
    files = sorted(str(p) for p in (folder / centre).iterdir())
    onboard(centre, files, str(tmp_path / "m.yaml"), logs=str(tmp_path / "logs"))
    proposed = yaml.safe_load((tmp_path / "m.yaml").read_text())["centres"][centre]
    for table in ("clinical", "gradings"):
        spec, want = proposed[table], truth[centre][table]
        assert spec["path"] == want["path"]
        assert spec["columns"] == want["columns"] and spec.get("endplates") == want.get("endplates")
        for variable, codes in want["codes"].items():  # every code the file holds, as the demo writes it
            assert spec["codes"][variable].items() <= codes.items() and spec["codes"][variable], variable
        assert {k: spec.get(k) for k in ("sep", "sheet", "date_format")} == {
            k: want.get(k) for k in ("sep", "sheet", "date_format")}
        spec["review"] = {k: v | {"status": "approved" if v["status"] == "check" else v["status"]}
                          for k, v in spec["review"].items()}
    assert read_clinical(centre, proposed["clinical"], KEY).problems == []
    assert all(read.problems == [] for read in read_gradings(centre, proposed["gradings"], KEY))
