"""The per-patient and per-batch radiomics jobs: ROI choice from config, optional lesions, missing inputs, unusable
masks and unknown or fractional label values logged."""

import pandas as pd
import pytest
import SimpleITK as sitk
from conftest import REPO

from spinestudy import exclusions
from spinestudy.anatomy import label_table
from spinestudy.radiomics import masks
from spinestudy.radiomics.extract import merge
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


def unusable_batch(tmp_path, volumes, mask):
    """Five patients besides a usable one (p...00): empty mask, mask off the image, mask flipped onto the
    other side of the origin, no volume, a mask file that is no image."""
    labels = sitk.ReadImage(str(mask))
    empty, outside, flipped = (sitk.Image(labels) for _ in range(3))
    empty[:, :, :] = 0
    outside.SetOrigin((500.0, 0.0, 0.0))
    flipped.SetDirection((-1, 0, 0, 0, 1, 0, 0, 0, 1))
    paths = {"p000000000000": mask}
    for patient, image in (("p000000000001", empty), ("p000000000002", outside), ("p000000000003", flipped)):
        paths[patient] = tmp_path / f"{patient}.nii.gz"
        sitk.WriteImage(image, str(paths[patient]))
    paths["p000000000004"] = mask
    paths["p000000000005"] = tmp_path / "broken.nii.gz"
    paths["p000000000005"].write_bytes(b"\x1f\x8b broken")
    for patient in paths:
        (tmp_path / "batch" / patient).mkdir(parents=True)
        if patient != "p000000000004":
            (tmp_path / "batch" / patient / "T2.nii.gz").write_bytes((volumes / "T2.nii.gz").read_bytes())
    return {p: str(m) for p, m in paths.items()}


def test_unusable_patients_are_logged_and_the_others_extracted(tmp_path, config):
    """One patient per batch, as by default: patients without any usable ROI write empty tables that merge."""
    volumes, mask = phantom(tmp_path)
    patient_masks = unusable_batch(tmp_path, volumes, mask)
    cfg = settings(config, sequences=["T2"], required="L1-L2 disc", structures="L1-L2 disc")
    parts = {name: [] for name in ("f", "d", "e")}
    for patient, patient_mask in patient_masks.items():
        outputs = [tmp_path / f"{patient}.{name}" for name in ("f.parquet", "d.parquet", "e.csv")]
        run_batch(tmp_path / "batch", {patient: patient_mask}, cfg, "A", *outputs)
        for name, path in zip(parts, outputs):
            parts[name].append(path)
    merge(parts["f"], tmp_path / "features.parquet")
    merge(parts["d"], tmp_path / "diagnostics.parquet")
    exclusions.merge(parts["e"], tmp_path / "exclusions.csv")
    features = pd.read_parquet(tmp_path / "features.parquet")
    assert features.patient.tolist() == ["p000000000000"] and features.T2_original_shape_VoxelVolume.item() == 500
    assert pd.read_parquet(tmp_path / "diagnostics.parquet").patient.tolist() == ["p000000000000"]
    log = pd.read_csv(tmp_path / "exclusions.csv")
    assert list(zip(log.patient, log.item, log.reason)) == [
        ("p000000000001", "L1-L2 disc (T2)", "empty mask"),
        ("p000000000002", "L1-L2 disc (T2)", "ROI outside the image"),
        ("p000000000003", "L1-L2 disc (T2)", "ROI outside the image"),
        ("p000000000004", "T2", "no T2 volume (see results/ingest/exclusions.csv)"),
        ("p000000000005", "mask", "mask file unreadable by SimpleITK"),
    ]


def test_unknown_label_values_are_logged_with_their_voxel_counts(tmp_path, config):
    volumes, mask = phantom(tmp_path)
    labels = sitk.ReadImage(str(mask))
    labels[5:10, 5:15, 2:7] = 99  # painted over half the disc
    sitk.WriteImage(labels, str(mask))
    features, log = run(tmp_path, volumes, mask, settings(config, sequences=["T2"], required="L1-L2 disc"))
    assert features.set_index("structure").loc["L1-L2 disc", "T2_original_shape_VoxelVolume"] == 250
    assert ("mask label 99", "label value 99 is not in the label table: its 250 voxels belong to no structure") \
        in set(zip(log.item, log.reason))


def interpolated(tmp_path, mask):
    """The disc of the label map resampled linearly onto a grid shifted by a third of a voxel: fractional borders."""
    labels = sitk.ReadImage(str(mask))
    labels *= labels == 11
    shifted = sitk.Resample(sitk.Cast(labels, sitk.sitkFloat32), labels, sitk.TranslationTransform(3, (0.33, 0, 0)),
                            sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    path = tmp_path / "interpolated.nrrd"
    sitk.WriteImage(shifted, str(path))
    return path


def test_fractional_label_map_is_refused_unless_rounding_is_configured(tmp_path, config, capsys):
    volumes, mask = phantom(tmp_path)
    fractional = interpolated(tmp_path, mask)
    with pytest.raises(masks.NonIntegerLabels, match=r"interpolated\.nrrd: label map with non-integer values"):
        masks.read_label_map(fractional)
    cfg = settings(config, sequences=["T2"], required="L1-L2 disc", structures="L1-L2 disc")
    features, log = run(tmp_path, volumes, fractional, cfg)
    assert features.empty and log.item.tolist() == ["mask"]
    assert log.reason.item().startswith("label map with non-integer values in 100 voxels (e.g. 3.63)")
    assert "interpolated.nrrd" in capsys.readouterr().err  # the job log names the file, results/ cannot
    features, log = run(tmp_path, volumes, fractional, cfg | {"round_labels": True})
    # rounding keeps 11 where its interpolated weight exceeds a half; the borders round to 4 (11 * 0.33; a label of
    # the table) and 7 (11 * 0.67; in no row, so logged as well): rounding is no substitute for nearest neighbour
    assert list(zip(log.item, log.reason)) == [
        ("mask", "label map with non-integer values in 100 voxels: rounded to the nearest integer (round_labels)"),
        ("mask label 7", "label value 7 is not in the label table: its 50 voxels belong to no structure"),
    ]
    assert features.T2_original_shape_VoxelVolume.item() == 450


def test_mask_of_another_dimension_is_unusable_not_a_crash():
    image = sitk.Image([40, 40, 10], sitk.sitkInt16)
    slice_mask = sitk.Image([40, 40], sitk.sitkUInt8)
    slice_mask[5:15, 5:15] = 11
    assert masks.on_image_grid(slice_mask, 11, image, ("m", "i"), resample=True, tolerance=1e-6) == (
        None, "the mask is 2-D, the image 3-D")
