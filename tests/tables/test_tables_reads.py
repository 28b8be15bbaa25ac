"""Other reads of the gradings (second reader, repeat, consensus): read with the first reader's mapping,
kept in reads_long.parquet, and resolved for the analysis by the configured rule."""

import copy

import numpy as np
import pandas as pd
import pytest

from spinestudy import pseudonym
from spinestudy.demo import tables as demo_tables
from spinestudy.tables import merge
from spinestudy.tables.readers import TableError
from tables_corpus import KEY, broken, demo, set_cell


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Demo centres A (CSV) and B (XLSX, its own level codes) with a second reader each, A also a repeat read."""
    folder = tmp_path_factory.mktemp("reads")
    clinical, gradings, config = demo(folder, n=12, centres=("A", "B"))
    planted, _ = demo_tables.plant_reads(gradings, seed=3)
    for centre in ("A", "B"):
        for read in ("reader2", "repeat") if centre == "A" else ("reader2",):
            path = demo_tables.write_read_tables(planted[read], centre, folder / centre, read)
            config[centre][f"gradings_{read}"] = {"path": str(path)}
    return folder, gradings, planted, config


def build(config, out, **kw) -> dict[str, pd.DataFrame]:
    merge.build_tables(config, KEY, out, **kw)
    return {name: (pd.read_parquet if name.endswith("parquet") else pd.read_csv)(out / name)
            for name in ("analysis.parquet", "gradings_long.parquet", "reads_long.parquet", "exclusions.csv")}


def canonical(gradings: pd.DataFrame) -> pd.DataFrame:
    """Canonical demo gradings keyed like the tables stage's outputs."""
    patients = [pseudonym.patient(KEY, c, i) for c, i in zip(gradings["centre"], gradings["study_id"])]
    return gradings.assign(patient=patients).sort_values(["centre", "patient", "level"]).reset_index(drop=True)


def test_second_reads_keep_the_first_readers_mapping(cohort, tmp_path):
    _, gradings, planted, config = cohort
    out = build(config, tmp_path)
    reads = out["reads_long.parquet"]
    assert reads.groupby("read")["patient"].nunique().to_dict() == {"reader1": 12, "reader2": 12, "repeat": 6}
    second = reads[reads["read"] == "reader2"].reset_index(drop=True)
    expected = canonical(planted["reader2"])  # B's file codes levels "L1/L2": decoded by the inherited codes
    for column in ("pfirrmann", "osteophytes", "modic_upper", "tep_lower"):
        assert second[column].tolist() == expected[column].tolist(), column
    first = reads[reads["read"] == "reader1"].drop(columns="read").reset_index(drop=True)
    pd.testing.assert_frame_equal(first[out["gradings_long.parquet"].columns], out["gradings_long.parquet"])
    assert out["gradings_long.parquet"]["pfirrmann"].tolist() == canonical(gradings)["pfirrmann"].tolist()


def test_higher_rule_analyses_the_higher_grade(cohort, tmp_path):
    _, gradings, planted, config = cohort
    out = build(config, tmp_path, resolution="higher")
    long = out["gradings_long.parquet"]
    first, second = canonical(gradings), canonical(planted["reader2"])
    for column in ("pfirrmann", "jarosz_height", "tep_upper", "modic_lower"):
        assert long[column].tolist() == np.maximum(first[column], second[column]).tolist(), column
    assert (long["pfirrmann"] > first["pfirrmann"]).any()
    analysis = out["analysis.parquet"].set_index("patient")
    sums = long.groupby("patient")["pfirrmann"].sum()
    assert (analysis.loc[sums.index, "pfirrmann_sum"] == sums).all()  # derived scores use the resolved grades


def test_consensus_rule_needs_a_consensus_read_for_every_disagreement(cohort, tmp_path):
    folder, gradings, planted, config = cohort
    config = copy.deepcopy(config)
    consensus = planted["repeat"][planted["repeat"]["centre"] == "A"]
    left_out = consensus["study_id"].iloc[-1]
    consensus = consensus[consensus["study_id"] != left_out]
    path = demo_tables.write_read_tables(consensus, "A", tmp_path, "consensus")
    config["A"]["gradings_consensus"] = {"path": str(path)}
    with pytest.raises(TableError) as stop:
        build(config, tmp_path / "stop", resolution="consensus")
    missing = pseudonym.patient(KEY, "A", left_out)
    assert f"patient {missing}: the readers disagree and the consensus file has no row" in str(stop.value)
    assert "A_mri_gradings.csv" in str(stop.value) and "centre B" in str(stop.value)  # B sends no consensus
    out = build(config, tmp_path / "quarantine", resolution="consensus", on_invalid="quarantine",
                min_patients=0)  # B, without a consensus file, loses every patient the readers disagree on
    log = out["exclusions.csv"]
    assert missing in set(log["patient"]) and missing not in set(out["analysis.parquet"]["patient"])
    long = out["gradings_long.parquet"]
    agreed = canonical(consensus)
    taken = long[long["patient"].isin(agreed["patient"])].reset_index(drop=True)
    assert taken["tep_upper"].tolist() == agreed[agreed["patient"].isin(taken["patient"])]["tep_upper"].tolist()


def test_invalid_second_read_is_a_problem_of_its_own_file(cohort, tmp_path):
    _, _, _, config = cohort
    config = copy.deepcopy(config)
    config["A"]["gradings_reader2"] = broken(config["A"]["gradings"] | config["A"]["gradings_reader2"],
                                             tmp_path / "A_reader2.csv", set_cell(3, "pfirrmann", "9"))
    with pytest.raises(TableError) as error:
        build(config, tmp_path / "out")
    assert str(error.value).count("problem") == 1
    assert "A_reader2.csv, row 3, column 'pfirrmann', value '9'" in str(error.value)


def test_unknown_resolution_rule(cohort, tmp_path):
    with pytest.raises(ValueError, match="resolution must be one of"):
        build(cohort[3], tmp_path, resolution="mean")


def test_second_read_needs_the_first_readers_mapping(cohort, tmp_path):
    config = copy.deepcopy(cohort[3])
    del config["B"]["gradings"]
    with pytest.raises(TableError, match="gradings_reader2 takes its mapping from the centre's gradings"):
        build(config, tmp_path)
