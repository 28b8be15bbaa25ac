"""The per-patient and per-batch radiomics jobs: ROI choice from config, optional lesions, missing inputs logged."""

import pandas as pd
import SimpleITK as sitk
from conftest import REPO

from spinestudy.anatomy import label_table
from spinestudy.radiomics.job import image_types, read_labels, run_batch, run_patient


def test_shipped_label_table_is_the_demo_one():
    assert read_labels(REPO / "config/labels.yaml") == label_table()


def test_image_types_first_matching_pattern_wins():
    chosen = image_types(["L1-L2 disc", "L5 superior endplate Modic lesion", "L1 vertebral body"],
                         {"disc$": ["Original"], "Modic": ["Original", "LBP3D"], "disc|body": ["LoG"]})
    assert chosen == {"L1-L2 disc": ["Original"], "L5 superior endplate Modic lesion": ["Original", "LBP3D"],
                      "L1 vertebral body": ["LoG"]}


def settings(config, **changes):
    return config["radiomics"] | {"params": str(REPO / "config/radiomics/mr_quick.yaml"),
                                  "labels": str(REPO / "config/labels.yaml")} | changes


def phantom(tmp_path):
    """A volume and a label map holding one disc (11) and one lesion (34), 10 x 10 x 5 voxels each."""
    image = sitk.GetImageFromArray(((pd.RangeIndex(40 * 40 * 10).to_numpy() % 97) * 10.0).reshape(10, 40, 40))
    labels = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    labels.CopyInformation(image)
    labels[5:15, 5:15, 2:7] = 11
    labels[20:30, 20:30, 2:7] = 34
    (tmp_path / "vol").mkdir()
    sitk.WriteImage(image, str(tmp_path / "vol" / "T2.nii.gz"))
    sitk.WriteImage(labels, str(tmp_path / "mask.nii.gz"))
    return tmp_path / "vol", tmp_path / "mask.nii.gz"


def run(tmp_path, volumes, mask, cfg):
    outputs = [tmp_path / name for name in ("f.parquet", "d.parquet", "e.csv")]
    run_patient(volumes, mask, cfg, "A", "p0123456789ab", *outputs)
    return pd.read_parquet(outputs[0]), pd.read_csv(outputs[2])


def test_absent_lesions_are_not_logged_but_absent_discs_and_volumes_are(tmp_path, config):
    volumes, mask = phantom(tmp_path)
    features, log = run(tmp_path, volumes, mask, settings(config, sequences=["T1", "T2"]))
    assert sorted(features.structure) == ["L1-L2 disc", "L5 superior endplate Modic lesion"]
    assert "T2_original_shape_VoxelVolume" in features and not any(c.startswith("T1_") for c in features)
    reasons = sorted(zip(log.item, log.reason))
    assert reasons[0] == ("L2-L3 disc (T2)", "label absent: 12 not in the mask")
    assert ("T1", "no T1 volume (see results/ingest/exclusions.csv)") in reasons
    assert len(reasons) == 4 + 1 and not log.item.str.contains("Modic").any()


def test_patient_without_mask_is_logged(tmp_path, config):
    volumes, _ = phantom(tmp_path)
    features, log = run(tmp_path, volumes, None, settings(config, sequences=["T2"]))
    assert features.empty
    assert log.reason.tolist() == ["no mask file for this patient"]


def test_batch_merges_its_patients_runs(tmp_path, config):
    volumes, mask = phantom(tmp_path)
    batch = tmp_path / "batch"
    for patient in ("p0123456789ab", "p0123456789ff"):
        (batch / patient).mkdir(parents=True)
        (batch / patient / "T2.nii.gz").write_bytes((volumes / "T2.nii.gz").read_bytes())
    cfg = settings(config, sequences=["T2"])
    outputs = [tmp_path / name for name in ("bf.parquet", "bd.parquet", "be.csv")]
    run_batch(batch, {"p0123456789ff": None, "p0123456789ab": str(mask)}, cfg, "A", *outputs)
    single, single_log = run(tmp_path, volumes, mask, cfg)
    features, log = pd.read_parquet(outputs[0]), pd.read_csv(outputs[2])
    pd.testing.assert_frame_equal(features, single)
    assert pd.read_parquet(outputs[1]).patient.tolist() == ["p0123456789ab"] * 2
    assert log.patient.tolist() == ["p0123456789ab"] * len(single_log) + ["p0123456789ff"]
    assert log.reason.iloc[-1] == "no mask file for this patient"
