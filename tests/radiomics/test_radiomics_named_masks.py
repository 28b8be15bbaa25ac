"""Masks that name their segments are read by name (issue 22, shape 4): a 3D Slicer .seg.nrrd with Slicer's own
label values 1..12 (one layer, and two layers with a Modic lesion overlapping its vertebral body) and a DICOM SEG
with segments 1..12 (highdicom, on a 512 x 512 x 16 source series), on the demo phantom's lumbar spine. Each
structure's features equal PyRadiomics' own on the structure's true binary mask; a segment with a name no
structure has is logged with its voxel count."""

import functools
import gzip
import logging
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
import yaml
from conftest import REPO
from dicom_factory import write_series
from radiomics import featureextractor

from spinestudy.anatomy import LEVELS
from spinestudy.demo import phantom as demo_phantom
from spinestudy.demo.dicom import SAGITTAL, plane_grid
from spinestudy.radiomics import masks
from spinestudy.radiomics.job import read_labels, run_patient, run_robustness

PARAMS = {"setting": {"binWidth": 25, "label": 1, "minimumROIDimensions": 2, "minimumROISize": 20,
                      "geometryTolerance": 1e-4},
          "imageType": {"Original": {}}, "featureClass": {"shape": None, "firstorder": None}}
# Slicer's label values 1..12 (segment i of the header is value i + 1), with names as readers type them: the
# phantom label of each (config/labels.yaml); 'L5/S1 disc' needs the centre's name map; a 13th segment, the
# spinal canal, is no structure.
SEGMENTS = [("L1 vertebral body", 1), ("L2 Vertebral Body", 2), ("l3_vertebral_body", 3), ("L4  vertebral body", 4),
            ("L5 vertebral-body", 5), ("S1 vertebral body", 6), ("L1-L2 disc", 11), ("L2 L3 disc", 12),
            ("L3_L4 Disc", 13), ("L4-L5 disc", 14), ("L5/S1 disc", 15), ("S1 superior endplate Modic lesion", 35),
            ("spinal canal", None)]
NAME_MAP = {"L5/S1 disc": "L5-S1 disc"}
LESION = 35


@pytest.fixture(scope="module")
def spine(tmp_path_factory):
    """A 512 x 512 x 16 sagittal T2 of the demo phantom with a Modic type II lesion under the S1 superior
    endplate: its DICOM files, the volume as ingestion writes it, and the true masks (numpy, per structure)."""
    levels = pd.DataFrame({"level": LEVELS, "pfirrmann": [2, 3, 3, 4, 4], "jarosz_height": 0, "osteophytes": 0,
                           "modic_upper": 0, "modic_lower": [0, 0, 0, 0, 2]})
    phantom = demo_phantom.build_phantom(levels, anatomy_seed=5)
    grid = plane_grid(phantom.centre + [0, 20, -12], SAGITTAL, 0.5469, (512, 512), 16, 3.3)
    scene = demo_phantom.sample(phantom, grid)
    signal = demo_phantom.signal(scene, "T2", np.random.default_rng(5))
    root = tmp_path_factory.mktemp("spine")
    files = write_series(root / "dicom", n=16, size=512, spacing=3.3, pixel_spacing=0.5469, origin=grid.origin,
                         pixels=np.round(signal * 1000).astype(np.uint16), PatientSex="F",
                         AccessionNumber="A1", StudyID="1", FrameOfReferenceUID=pydicom.uid.generate_uid())
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(root / "dicom")))
    image = reader.Execute()
    (root / "volumes").mkdir()
    sitk.WriteImage(image, str(root / "volumes/T2.nii.gz"))
    labels = scene.label.reshape(grid.shape)
    assert masks.same_grid(grid.image(labels), image, 1e-6)
    truth = {value: labels == value for _, value in SEGMENTS if value}
    truth[None] = (scene.tissue.reshape(grid.shape) == demo_phantom.CSF) & (labels == 0)
    assert 500 < truth[LESION].sum() and all(t.sum() > 500 for t in truth.values())
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(PARAMS))
    return dict(root=root, files=files, image=image, truth=truth, params=params)


def _masks(spine, overlapping: bool) -> list[np.ndarray]:
    """Each segment's voxels: with `overlapping`, the S1 body holds its lesion (as a reader draws it)."""
    out = [spine["truth"][value] for _, value in SEGMENTS]
    if overlapping:
        out[5] = out[5] | spine["truth"][LESION]
    return out


def write_seg_nrrd(path: Path, image: sitk.Image, segments: list[tuple[str, np.ndarray]], ras: bool = False) -> None:
    """A .seg.nrrd as 3D Slicer writes it (vtkMRMLSegmentationStorageNode): each segment goes to the first layer
    it does not overlap, with the next free value of that layer (1, 2, ...). Header in LPS, or in RAS (`ras`) as
    Slicer 4 wrote it."""
    layers, placed = [np.zeros(image.GetSize()[::-1], np.uint8)], []
    for name, voxels in segments:
        k = next((k for k, layer in enumerate(layers) if not layer[voxels].any()), len(layers))
        if k == len(layers):
            layers.append(np.zeros_like(layers[0]))
        value = 1 + sum(1 for _, layer, _ in placed if layer == k)
        layers[k][voxels] = value
        placed.append((name, k, value))
    flip = np.array([-1, -1, 1]) if ras else np.ones(3)
    axes = np.asarray(image.GetDirection()).reshape(3, 3) * image.GetSpacing() * flip[:, None]
    directions = " ".join("(" + ",".join(f"{v:.17g}" for v in axes[:, c]) + ")" for c in range(3))
    origin = "(" + ",".join(f"{v:.17g}" for v in np.asarray(image.GetOrigin()) * flip) + ")"
    many = len(layers) > 1
    lines = ["NRRD0004", "# Complete NRRD file format specification at:",
             "# http://teem.sourceforge.net/nrrd/format.html", "type: unsigned char", f"dimension: {3 + many}",
             f"space: {'right-anterior-superior' if ras else 'left-posterior-superior'}",
             "sizes: " + " ".join(map(str, ([len(layers)] if many else []) + list(image.GetSize()))),
             "space directions: " + ("none " if many else "") + directions,
             "kinds: " + ("list " if many else "") + "domain domain domain", "encoding: gzip",
             f"space origin: {origin}"]
    for i, (name, layer, value) in enumerate(placed):
        z, y, x = np.nonzero(layers[layer] == value)
        lines += [f"Segment{i}_Color:=0.5 0.68 0.74", f"Segment{i}_ColorAutoGenerated:=1",
                  f"Segment{i}_Extent:={x.min()} {x.max()} {y.min()} {y.max()} {z.min()} {z.max()}",
                  f"Segment{i}_ID:=Segment_{i + 1}", f"Segment{i}_LabelValue:={value}", f"Segment{i}_Layer:={layer}",
                  f"Segment{i}_Name:={name}", f"Segment{i}_NameAutoGenerated:=0",
                  f"Segment{i}_Tags:=Segmentation.Status:inprogress|"]
    lines += ["Segmentation_ContainedRepresentationNames:=Binary labelmap|",
              "Segmentation_ConversionParameters:=Collapse labelmaps|1|Merge the labelmaps into as few shared "
              "labelmaps as possible&",
              "Segmentation_MasterRepresentation:=Binary labelmap", "Segmentation_ReferenceImageExtentOffset:=0 0 0"]
    data = np.stack(layers, axis=-1) if many else layers[0]
    path.write_bytes(("\n".join(lines) + "\n\n").encode() + gzip.compress(np.ascontiguousarray(data).tobytes(), 1))


def write_dicom_seg(path: Path, files: list[Path], segments: list[tuple[str, np.ndarray]]) -> None:
    """A binary DICOM SEG (highdicom) of the source series, segments numbered 1..n and labelled by name."""
    sources = [pydicom.dcmread(f) for f in files]  # in slice order, the frames of pixel_array
    descriptions = [hd.seg.SegmentDescription(
        segment_number=n, segment_label=name,
        segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure"),
        segmented_property_type=hd.sr.CodedConcept("123037004", "SCT", "Body structure"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL) for n, (name, _) in enumerate(segments, start=1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        seg = hd.seg.Segmentation(
            source_images=sources, pixel_array=np.stack([voxels for _, voxels in segments], axis=-1),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=descriptions,
            series_instance_uid=hd.UID(), series_number=100, sop_instance_uid=hd.UID(), instance_number=1,
            manufacturer="spinestudy", manufacturer_model_name="test", software_versions="0",
            device_serial_number="0")
    seg.save_as(path)


@functools.cache
def _reference(image_file: str, mask_bytes: bytes, shape: tuple, params: str) -> dict[str, float]:
    """PyRadiomics' own features of a binary mask on the volume's grid."""
    image = sitk.ReadImage(image_file)
    mask = sitk.GetImageFromArray(np.frombuffer(mask_bytes, np.uint8).reshape(shape))
    mask.CopyInformation(image)
    result = featureextractor.RadiomicsFeatureExtractor(params).execute(image, mask)
    return {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}


def reference(spine, voxels: np.ndarray) -> dict[str, float]:
    return _reference(str(spine["root"] / "volumes/T2.nii.gz"), voxels.astype(np.uint8).tobytes(), voxels.shape,
                      str(spine["params"]))


@pytest.fixture(scope="module", params=["seg.nrrd", "seg.nrrd, two layers", "DICOM SEG"])
def mask_file(request, spine):
    overlapping = request.param != "seg.nrrd"
    segments = list(zip([name for name, _ in SEGMENTS], _masks(spine, overlapping)))
    if request.param == "DICOM SEG":
        path = spine["root"] / "seg.dcm"
        write_dicom_seg(path, spine["files"], segments)
    else:
        path = spine["root"] / f"{request.param.replace(', ', '_').replace(' ', '_')}.seg.nrrd"
        write_seg_nrrd(path, spine["image"], segments, ras=overlapping)
    return path, overlapping


def settings(spine, **changes):
    return {"params": str(spine["params"]), "labels": str(REPO / "config/labels.yaml"), "sequences": ["T2"],
            "structures": ".", "required": "disc", "image_types": {}, "min_voxels": 1, "resample_mask": False,
            "round_labels": False, "segment_names": NAME_MAP} | changes


def run(tmp_path, spine, mask, cfg):
    outputs = [tmp_path / name for name in ("f.parquet", "d.parquet", "e.csv")]
    run_patient(spine["root"] / "volumes", mask, cfg, "A", "p0123456789ab", *outputs)
    return pd.read_parquet(outputs[0]), pd.read_parquet(outputs[1]), pd.read_csv(outputs[2])


def test_slicer_file_as_simpleitk_reads_it(mask_file, spine):
    """The hand-written header reads back as Slicer's values (not the label table's) on the image's grid."""
    path, overlapping = mask_file
    if path.suffix == ".dcm":
        assert [int(s.SegmentNumber) for s in pydicom.dcmread(path).SegmentSequence] == list(range(1, 14))
        return
    image = sitk.ReadImage(str(path))
    assert image.GetNumberOfComponentsPerPixel() == (2 if overlapping else 1)
    assert masks.same_grid(sitk.VectorIndexSelectionCast(image, 0) if overlapping else image, spine["image"], 1e-9)
    assert image.GetMetaData("Segment10_Name") == "L5/S1 disc" and image.GetMetaData("Segment10_LabelValue") == "11"
    assert image.GetMetaData("Segment11_Layer") == ("1" if overlapping else "0")


def test_named_segments_give_their_structures(tmp_path, spine, mask_file, caplog):
    path, overlapping = mask_file
    with caplog.at_level(logging.WARNING, logger="spinestudy"):
        features, diagnostics, log = run(tmp_path, spine, path, settings(spine))
    table = {structure: value for value, structure in read_labels(REPO / "config/labels.yaml").items()}
    expected = {value: voxels for (_, value), voxels in zip(SEGMENTS, _masks(spine, overlapping)) if value}
    assert sorted(features.label.astype(int)) == sorted(expected) and len(features) == 12
    assert features.structure.map(table).tolist() == features.label.astype(int).tolist()
    voxels = diagnostics.set_index("structure").voxels
    for structure, row in features.set_index("structure").iterrows():
        truth = expected[table[structure]]
        assert voxels[structure] == truth.sum(), structure
        ours = {k.removeprefix("T2_"): v for k, v in row.items() if k.startswith("T2_")}
        ref = reference(spine, truth)
        assert ours.keys() == ref.keys() and len(ref) == 14 + 18
        np.testing.assert_allclose([ours[k] for k in ref], list(ref.values()), rtol=1e-9, atol=0, err_msg=structure)
    canal = int(spine["truth"][None].sum())
    assert list(zip(log.item, log.reason)) == [
        ("mask segment 12" if path.suffix != ".dcm" else "mask segment 13",
         f"segment {12 if path.suffix != '.dcm' else 13}'s name is no structure of the label table (nor in "
         f"segment_names): its {canal} voxels belong to no structure (the job log names it)")]
    assert f"is named 'spinal canal', no structure of the label table: its {canal} voxels" in caplog.text
    assert "spinal canal" not in log.to_csv()


def test_unmapped_and_duplicate_names_are_logged(tmp_path, spine):
    """Without the name map 'L5/S1 disc' is no structure; two segments naming L4-L5 disc give it neither."""
    segments = list(zip([name for name, _ in SEGMENTS], _masks(spine, True)))
    segments[8] = ("L4 L5 DISC", segments[8][1])
    path = tmp_path / "duplicate.seg.nrrd"
    write_seg_nrrd(path, spine["image"], segments)
    features, _, log = run(tmp_path, spine, path, settings(spine, structures="disc", segment_names={}))
    assert features.structure.tolist() == ["L1-L2 disc", "L2-L3 disc"]
    disc = int(spine["truth"][15].sum())
    assert sorted(zip(log.item, log.reason)) == sorted([
        ("L3-L4 disc (T2)", "label absent: no segment of the mask is named 'L3-L4 disc'"),
        ("L4-L5 disc (T2)", "segments 8, 9 of the mask are all named 'L4-L5 disc': none is used"),
        ("L5-S1 disc (T2)", "label absent: no segment of the mask is named 'L5-S1 disc'"),
        ("mask segment 10", f"segment 10's name is no structure of the label table (nor in segment_names): its "
                            f"{disc} voxels belong to no structure (the job log names it)"),
        ("mask segment 12", f"segment 12's name is no structure of the label table (nor in segment_names): its "
                            f"{int(spine['truth'][None].sum())} voxels belong to no structure (the job log names it)"),
    ])


def test_name_map_to_no_structure_is_an_error(tmp_path, spine, mask_file):
    with pytest.raises(ValueError, match=r"centres\.A\.segment_names: \['L5-S1 discs'\] are no structures"):
        run(tmp_path, spine, mask_file[0], settings(spine, segment_names={"L5/S1 disc": "L5-S1 discs"}))


def test_robustness_reads_slicer_segments_by_name(tmp_path, spine):
    """The robustness re-extraction perturbs the lesion segment of a two-layer .seg.nrrd, not value 35's voxels."""
    segments = list(zip([name for name, _ in SEGMENTS], _masks(spine, True)))
    path = tmp_path / "lesion.seg.nrrd"
    write_seg_nrrd(path, spine["image"], segments)
    stats = {"robustness": {"params": str(spine["params"]), "sequences": ["T2"], "structures": "Modic lesion",
                            "perturbations": ["erode"], "radius": 1}}
    run_robustness(spine["root"] / "volumes", path, settings(spine), stats, "A", "p0123456789ab",
                   tmp_path / "r.parquet")
    rows = pd.read_parquet(tmp_path / "r.parquet").set_index("perturbation")
    assert rows.structure.tolist() == ["S1 superior endplate Modic lesion"] * 2 and set(rows.label) == {"35"}
    volume = rows["T2_original_shape_VoxelVolume"]
    assert volume["original"] == reference(spine, spine["truth"][LESION])["original_shape_VoxelVolume"]
    assert volume["erode"] < volume["original"]


ITKSNAP_HEADER = """################################################
# ITK-SnAP Label Description File
# File format:
# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
# Fields:
#    IDX:   Zero-based index
#    -R-:   Red color component (0..255)
#    -G-:   Green color component (0..255)
#    -B-:   Blue color component (0..255)
#    -A-:   Label transparency (0.00 .. 1.00)
#    VIS:   Label visibility (0 or 1)
#    IDX:   Label mesh visibility (0 or 1)
#  LABEL:   Label description
################################################
    0     0    0    0        0  0  0    "Clear Label"
"""


def test_itksnap_label_descriptions_name_a_plain_label_map(tmp_path, spine, caplog):
    """A NIfTI label map with ITK-SNAP's values 1..13 and the centre's label description file: names decide."""
    labels = np.zeros(spine["truth"][LESION].shape, np.uint8)
    for value, voxels in enumerate(_masks(spine, False), start=1):
        labels[voxels] = value
    label_map = sitk.GetImageFromArray(labels)
    label_map.CopyInformation(spine["image"])
    sitk.WriteImage(label_map, str(tmp_path / "labels.nii.gz"))
    descriptions = tmp_path / "labels.txt"
    descriptions.write_text(ITKSNAP_HEADER + "".join(f'{v:5d}   255    0    0        1  1  1    "{name}"\n'
                                                     for v, (name, _) in enumerate(SEGMENTS + [("Label 14", 0)], 1)))
    with caplog.at_level(logging.WARNING, logger="spinestudy"):
        features, _, log = run(tmp_path, spine, tmp_path / "labels.nii.gz",
                               settings(spine, structures="disc|Modic", label_descriptions=str(descriptions)))
    expected = {value: voxels for (_, value), voxels in zip(SEGMENTS, _masks(spine, False)) if value and value > 10}
    assert sorted(features.label.astype(int)) == sorted(expected)
    for _, row in features.iterrows():
        ref = reference(spine, expected[int(row.label)])
        np.testing.assert_allclose([row[f"T2_{k}"] for k in ref], list(ref.values()), rtol=1e-9, atol=0)
    canal = int(spine["truth"][None].sum())
    assert list(zip(log.item, log.reason)) == [
        ("mask segment 13", f"segment 13's name is no structure of the label table (nor in segment_names): its "
                            f"{canal} voxels belong to no structure (the job log names it)")]
    assert f"is named 'spinal canal', no structure of the label table: its {canal} voxels" in caplog.text
    with pytest.raises(ValueError, match=r"labels\.txt, line 16: '1 255 0 0 1 1 L1' is not an ITK-SNAP label"):
        descriptions.write_text(ITKSNAP_HEADER + "1 255 0 0 1 1 L1\n")
        masks.read_label_descriptions(descriptions)
