"""A Modic lesion cohort for the radiomics statistics tests: demo phantoms (spinestudy.demo.phantom, planted
lesion shapes by Modic type) sampled on the four demo centres' T2 grids, shape features by spinestudy's
own extraction (shape-only PyRadiomics parameters). Cached: built once per test session."""

import functools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import SimpleITK as sitk
import yaml

from spinestudy.anatomy import ENDPLATES, LEVELS, label_table, modic_label
from spinestudy.demo import dicom as demo_dicom
from spinestudy.demo import phantom as demo_phantom
from spinestudy.radiomics import extract as rx

PAPER_COUNTS = (34, 62, 58)  # lesions of Modic type I, II, III in the paper's retrospective cohort
SHAPE_PARAMS = {"setting": {"minimumROIDimensions": 2, "minimumROISize": 20, "label": 1},
                "imageType": {"Original": {}}, "featureClass": {"shape": None}}


def _levels(types: np.ndarray) -> pd.DataFrame:
    """A patient's per-level grades with the given Modic types on its ten endplates (upper, lower per level)."""
    return pd.DataFrame({"level": LEVELS, "pfirrmann": 3, "jarosz_height": 0, "osteophytes": 0,
                         "modic_upper": types[0::2], "modic_lower": types[1::2]})


@functools.lru_cache
def shape_cohort(counts: tuple[int, int, int] = PAPER_COUNTS, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, gradings) like results/radiomics/features.parquet and gradings_long.parquet: T2 original
    shape features of every lesion, Modic types shuffled over ten endplates per patient."""
    rng = np.random.default_rng(seed)
    slots = np.concatenate([np.repeat([1, 2, 3], counts), np.zeros(-sum(counts) % 10, int)])
    types = rng.permutation(slots).reshape(-1, 10)
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "shape.yaml"
        params.write_text(yaml.safe_dump(SHAPE_PARAMS))
        ex = rx.extractor(params)
        rows, gradings = [], []
        for i, patient_types in enumerate(types):
            centre, patient, levels = "ABCD"[i % 4], f"p{i:03d}", _levels(patient_types)
            profile = demo_dicom.CENTRE_PROFILES[centre]
            phantom = demo_phantom.build_phantom(levels, anatomy_seed=seed * 1000 + i)
            grid = demo_dicom.plane_grid(phantom.centre + [0.0, 20, -12], demo_dicom.SAGITTAL,
                                         profile["pixel_spacing"], profile["matrix"], profile["slices"],
                                         profile["SpacingBetweenSlices"])
            mask = grid.image(demo_phantom.sample(phantom, grid).label.reshape(grid.shape))
            image = sitk.Cast(mask, sitk.sitkFloat32)  # shape features read the mask only
            for level in LEVELS:
                for endplate in ENDPLATES:
                    label = modic_label(level, endplate)
                    if levels.set_index("level").loc[level, f"modic_{endplate}"]:
                        features = rx.extract_roi(ex, image, mask, label)
                        rows.append({"centre": centre, "patient": patient, "label": str(label),
                                     "structure": label_table()[label]}
                                    | {f"T2_{k}": v for k, v in features.items() if "_shape_" in k})
            gradings.append(levels.assign(centre=centre, patient=patient))
    return pd.DataFrame(rows), pd.concat(gradings, ignore_index=True)



RADIOMICS_STATS_FILES = ("lesion_features.parquet", "combat_diagnostic.csv", "shape_by_modic.csv", "dunn.csv",
                         "mwu_screen.csv", "lasso_features.csv", "classifier.json", "correlations.csv", "icc.csv")


def tables_only_inputs(root: Path) -> dict[str, Path]:
    """The radiomics statistics' inputs in a tables-only study: the feature table radiomics_merge writes when no
    centre sends images, and the gradings and clinical rows of a 40-patient demo cohort with Modic changes
    (lesions that images would have shown)."""
    from spinestudy.demo import tables as demo_tables

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    clinical, gradings, _ = demo_tables.simulate_cohort(40, ["C"], seed=2, imaging_centres=[])
    paths = {name: root / f"{name}.parquet" for name in ("features", "gradings_long", "analysis")}
    rx.merge([], paths["features"])
    gradings.rename(columns={"study_id": "patient"}).to_parquet(paths["gradings_long"])
    clinical.rename(columns={"study_id": "patient"}).to_parquet(paths["analysis"])
    return paths


def tables_only_outputs(root: Path, settings: dict) -> dict[str, Path]:
    """results/radiomics_stats/ of a tables-only study (tables_only_inputs), written by the real writers with
    the inputs the rules give them; keys: the file stems."""
    from spinestudy.radiomics_stats import classifier, correlations, icc, screen
    from spinestudy.radiomics_stats import harmonisation as combat
    from spinestudy.radiomics_stats import shape as modic_shape

    inputs = tables_only_inputs(root)
    paths = inputs | {name.split(".")[0]: Path(root) / name for name in RADIOMICS_STATS_FILES}
    features, gradings, lesions = inputs["features"], inputs["gradings_long"], paths["lesion_features"]
    combat.write(features, gradings, settings, lesions, paths["combat_diagnostic"])
    modic_shape.write(lesions, gradings, settings, paths["shape_by_modic"], paths["dunn"])
    screen.write(lesions, gradings, settings, paths["mwu_screen"])
    classifier.write(lesions, features, gradings, settings, paths["lasso_features"], paths["classifier"])
    correlations.write(lesions, gradings, inputs["analysis"], paths["lasso_features"], settings, paths["correlations"])
    icc.write([], settings, paths["icc"])
    return paths
