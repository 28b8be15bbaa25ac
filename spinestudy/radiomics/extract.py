"""PyRadiomics feature extraction for one patient: every (sequence, ROI), one image load per series.

Each series is read and normalised once. Where PyRadiomics filters the whole image on its own grid in 3-D
(`fast_path.own_path_reason`), its steps run unchanged (mask checks, shape, filters, feature classes) with
two differences that make it fast. Each filter runs once per series for all its ROIs (a filtered voxel does
not depend on the mask), not once per ROI. The neighbourhood filters LoG, wavelet and gradient see the image
cropped to the ROIs' bounding box plus the filter's reach (`fast_path.filter_box`) instead of the whole
image. Every other image type still sees the whole image PyRadiomics would give it: square, square root,
logarithm and exponential scale by the image's maximum, and LBP3D thresholds spline-interpolated neighbours
against the centre voxel, a test that rounding-level differences of a cropped spline prefilter flip wherever
neighbours equal the centre (common in integer MR data). With resampling, PyRadiomics filters each ROI's own
resampled crop whole: each ROI takes that crop (PyRadiomics' resampleImage) through the same steps, with only
wavelet and gradient cropped further (bit-identical). Otherwise (preCrop without resampling, resegmentation,
2-D images, force2D) every ROI takes PyRadiomics' own extraction; diagnostics name the path taken. On every
path a few PyRadiomics internals are replaced by faster computations of their values (`overrides`).
"""

import copy
import functools
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import radiomics
import SimpleITK as sitk
import threadpoolctl
from radiomics import featureextractor, imageoperations

from spinestudy.exclusions import Exclusion
from spinestudy.radiomics import fast_path, log_filter, masks, overrides

STAGE = "radiomics"
KEYS = ["centre", "patient", "label", "structure"]
SHARED = "shared filters"
RESAMPLED = "resampled crops"


def extractor(params: str | Path) -> featureextractor.RadiomicsFeatureExtractor:
    """A PyRadiomics extractor for a parameter file, validated by PyRadiomics' own schema (pykwalify). The
    validation costs about 0.7 s: a batch job's patients share one extractor while the file is unchanged."""
    stat = Path(params).stat()
    return _extractor(str(Path(params).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _extractor(params: str, mtime_ns: int, size: int) -> featureextractor.RadiomicsFeatureExtractor:
    return featureextractor.RadiomicsFeatureExtractor(params)


def extraction_path(ex: featureextractor.RadiomicsFeatureExtractor, image: sitk.Image) -> str:
    """The path a series' extraction takes: 'shared filters', 'resampled crops' or 'pyradiomics (<why>)'
    (diagnostics column)."""
    reason = fast_path.own_path_reason(ex.settings, image)
    if reason:
        return f"pyradiomics ({reason})"
    return RESAMPLED if fast_path.resamples(ex.settings) else SHARED


def _checked(image: sitk.Image, mask: sitk.Image, settings: dict) -> tuple[sitk.Image, np.ndarray]:
    """PyRadiomics' checkMask (label present, dimensions, size) -> (mask, bounding box), run on the mask's
    bounding box rather than the whole image when both have one size: its statistics pass is the cost."""
    inside = sitk.GetArrayViewFromImage(mask) == settings["label"]
    if mask.GetSize() == image.GetSize() and inside.any():
        profiles = [inside.any(axis=other) for other in ((0, 1), (0, 2), (1, 2))]  # along x, y, z
        lower = np.array([p.argmax() for p in profiles])
        upper = np.array([len(p) - 1 - p[::-1].argmax() for p in profiles])
        region = tuple(slice(lo, hi + 1) for lo, hi in zip(lower, upper))
        bbox, corrected = imageoperations.checkMask(image[region], mask[region], **settings)
        if corrected is None:
            return mask, bbox + np.repeat(lower, 2)
    bbox, corrected = imageoperations.checkMask(image, mask, **settings)  # PyRadiomics' own error or correction
    return mask if corrected is None else corrected, bbox


def _enabled(ex, types: list[str] | None) -> dict:
    """The parameter file's image types (name -> custom settings), restricted to `types` if given."""
    return {t: custom for t, custom in ex.enabledImagetypes.items() if types is None or t in types}


def _shared_filter_features(ex, image: sitk.Image, rois: dict, wanted: dict, settings: dict,
                            cropped: tuple[str, ...] = fast_path.CROPPED) -> dict[str, dict]:
    """Features of ROIs that share one 3-D image grid (name -> (binary mask, bounding box)). Each filter runs
    once for all of them: the `cropped` ones (LoG, wavelet, gradient) on the image cropped to
    `fast_path.filter_box` of the ROIs' bounding box, the other image types on the whole image, as PyRadiomics
    would."""
    features = {name: ex.computeShape(image, mask, bbox, **settings) for name, (mask, bbox) in rois.items()}
    boxes = {n: (bbox[0::2], bbox[1::2] + 1) for n, (_, bbox) in rois.items()}  # [lower, upper) per axis
    cropped_masks = {n: mask[tuple(map(slice, *boxes[n]))] for n, (mask, _) in rois.items()}
    unions = {}
    for image_type, custom in ex.enabledImagetypes.items():
        users = [n for n in rois if image_type in _enabled(ex, wanted.get(n))]
        if not users:
            continue
        if tuple(users) not in unions:
            unions[tuple(users)] = functools.reduce(sitk.Or, (rois[n][0] for n in users))
        lower, source = np.zeros(3, int), (image, unions[tuple(users)])
        box = np.min([boxes[n][0] for n in users], axis=0), np.max([boxes[n][1] for n in users], axis=0)
        if image_type in cropped:
            lower, upper = fast_path.filter_box(image_type, custom, settings, image, *box)
            source = tuple(item[tuple(map(slice, lower, upper))] for item in source)
        if image_type == "LoG":  # only on the ROIs' box, with getLoGImage's values there (log_filter)
            images = log_filter.log_images(source[0], box[0] - lower, box[1] - lower, **settings | (custom or {}))
            lower = box[0]
        else:
            images = getattr(imageoperations, f"get{image_type}Image")(*source, **settings | (custom or {}))
        for filtered, name, kwargs in images:
            for n in users:
                f_image = filtered[tuple(map(slice, boxes[n][0] - lower, boxes[n][1] - lower))]
                features[n].update(ex.computeFeatures(f_image, cropped_masks[n], name, **kwargs))
    return {n: {k: float(v) for k, v in f.items()} for n, f in features.items()}


def _resampled_features(ex, image: sitk.Image, mask: sitk.Image, types: list[str] | None,
                        settings: dict) -> dict[str, float]:
    """One ROI as PyRadiomics extracts it with resampling: PyRadiomics' resampleImage gives the ROI's crop (its box
    plus padDistance, on the new grid), which PyRadiomics then filters whole. That crop is the image of
    `_shared_filter_features`, cropping only the filters whose values stay bit-identical (no LoG)."""
    if not (sitk.GetArrayViewFromImage(mask) == settings["label"]).any():
        imageoperations.getMask(mask, **settings)  # raises PyRadiomics' own error
    mask = sitk.Cast(mask, sitk.sitkUInt32)  # as PyRadiomics' getMask
    crop, crop_mask = imageoperations.resampleImage(image, mask, **settings)
    rois = {"roi": _checked(crop, crop_mask, settings)}
    return _shared_filter_features(ex, crop, rois, {"roi": types}, settings, fast_path.CROPPED_EXACT)["roi"]


def _pyradiomics_features(ex, image: sitk.Image, mask: sitk.Image, types: list[str] | None,
                          settings: dict) -> dict[str, float]:
    """PyRadiomics' own extraction (RadiomicsFeatureExtractor.execute) of one ROI, without its diagnostics."""
    own = copy.copy(ex)
    own.settings, own.enabledImagetypes = settings | {"additionalInfo": False}, _enabled(ex, types)
    return {k: float(v) for k, v in own.execute(image, mask).items()}


def extract_series(ex: featureextractor.RadiomicsFeatureExtractor, image: sitk.Image, rois: dict[str, sitk.Image],
                   image_types: dict[str, list[str] | None] | None = None) -> dict[str, dict[str, float] | str]:
    """Features '{imagetype}_{class}_{feature}' of every ROI (name -> binary mask, 1 inside, on the image's
    grid) of one series, or the reason PyRadiomics gave for an unusable ROI. `image` is already normalised if
    the parameters ask for it; `image_types` restricts an ROI to some of the parameter file's image types.
    The path is `extraction_path`'s: shared filters, resampled crops ROI by ROI, or PyRadiomics' own extraction
    ROI by ROI."""
    settings = ex.settings | {"label": 1, "normalize": False}
    wanted = image_types or {}
    own_path = bool(fast_path.own_path_reason(settings, image))
    resampled = not own_path and fast_path.resamples(settings)
    results, shared = {}, {}
    with overrides.faster():
        for name, mask in rois.items():
            try:
                if own_path:
                    results[name] = _pyradiomics_features(ex, image, mask, wanted.get(name), settings)
                elif resampled:
                    results[name] = _resampled_features(ex, image, mask, wanted.get(name), settings)
                else:
                    shared[name] = _checked(image, mask, settings)
            except (ValueError, AssertionError) as exc:  # PyRadiomics' mask checks; asserts on the settings' axes
                results[name] = f"PyRadiomics: {exc}"
        results |= _shared_filter_features(ex, image, shared, wanted, settings)
    return {name: results[name] for name in rois}


def extract_roi(ex: featureextractor.RadiomicsFeatureExtractor, image: sitk.Image, mask: sitk.Image,
                label: int = 1, image_types: list[str] | None = None) -> dict[str, float]:
    """One ROI (voxels of `label` in `mask`) of extract_series; raises ValueError for an unusable ROI."""
    features = extract_series(ex, image, {"roi": sitk.Cast(mask == label, sitk.sitkUInt8)}, {"roi": image_types})
    if isinstance(features["roi"], str):
        raise ValueError(features["roi"])
    return features["roi"]


def normalised(image: sitk.Image, settings: dict) -> sitk.Image:
    """The image normalised over all its voxels when the parameters ask for it (as PyRadiomics' loadImage)."""
    return imageoperations.normalizeImage(image, **settings) if settings.get("normalize") else image


def image_hash(image: sitk.Image) -> str:
    """SHA-1 of voxel values and grid, the hash PyRadiomics' diagnostics would report plus geometry."""
    digest = hashlib.sha1(sitk.GetArrayViewFromImage(image).tobytes())
    digest.update(repr((image.GetOrigin(), image.GetSpacing(), image.GetDirection())).encode())
    return digest.hexdigest()


def extract_patient(volumes: dict[str, str | Path], mask: str | Path, rois: dict[int | str, str],
                    params: str | Path, centre: str, patient: str, out: str | Path, out_diagnostics: str | Path,
                    *, min_voxels: int = 1, resample_mask: bool = False,
                    image_types: dict[str, list[str]] | None = None,
                    segment_names: dict[str, str] | None = None) -> list[Exclusion]:
    """Extract every ROI of `rois` (mask key -> structure) on every sequence of `volumes`.

    Writes one row per ROI ('{sequence}_{imagetype}_{class}_{feature}' columns) to `out` and one diagnostics
    row per (ROI, sequence) to `out_diagnostics`; returns the unusable ROIs as exclusions. Nothing written
    names the mask or image files (they may carry patient ids); errors raised do, for the user to find them.
    `image_types` restricts a structure to some of the parameter file's image types; `segment_names` maps a
    named mask's segment names to structures (masks.load).
    """
    # One thread for ITK and BLAS: parallelism comes from jobs, and two BLAS threads per job on a busy
    # machine make PyRadiomics' GLCM eigenvalues (MCC) ten times slower, measured on 2 cores.
    sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(1)
    threadpoolctl.threadpool_limits(1)
    # PyRadiomics' per-ROI warnings ("GLCM is symmetrical", ...) would flood the job log: its logger, not only its
    # stderr handler (setVerbosity), lets errors alone through to the log file (spinestudy.logs).
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    ex = extractor(params)
    tolerance = ex.settings.get("geometryTolerance") or 1e-6
    rejected, rows, diagnostics = [], {}, []
    for sequence, volume in volumes.items():
        raw = sitk.ReadImage(str(volume))
        image = normalised(raw, ex.settings)
        common = dict(centre=centre, patient=patient, sequence=sequence, pyradiomics=radiomics.__version__,
                      params=Path(params).name, settings=json.dumps(ex.settings, sort_keys=True, default=str),
                      image_hash=image_hash(raw), extraction_path=extraction_path(ex, image))
        usable = {}
        for (key, structure), roi in zip(rois.items(), masks.load(mask, rois, image, segment_names).values()):
            if not isinstance(roi, str):
                on_grid, problem = masks.on_image_grid(*roi, image, (str(mask), str(volume)),
                                                       resample=resample_mask, tolerance=tolerance)
                voxels = 0 if on_grid is None else int(sitk.GetArrayViewFromImage(on_grid).sum())
                roi = problem or (f"ROI smaller than the minimum: {voxels} voxels < {min_voxels}"
                                  if voxels < min_voxels else (key, on_grid, voxels))
            if isinstance(roi, str):
                rejected.append(Exclusion(centre, patient, f"{structure} ({sequence})", STAGE, roi))
            else:
                usable[structure] = roi
        features = extract_series(ex, image, {s: on_grid for s, (_, on_grid, _) in usable.items()}, image_types)
        for structure, (key, on_grid, voxels) in usable.items():
            if isinstance(features[structure], str):
                rejected.append(Exclusion(centre, patient, f"{structure} ({sequence})", STAGE, features[structure]))
                continue
            row = rows.setdefault(structure, dict(centre=centre, patient=patient, label=str(key), structure=structure))
            row.update({f"{sequence}_{name}": value for name, value in features[structure].items()})
            diagnostics.append(common | dict(label=str(key), structure=structure, voxels=voxels,
                                             mask_hash=image_hash(on_grid)))
    in_order(pd.DataFrame(list(rows.values()), columns=KEYS if not rows else None)).to_parquet(out, index=False)
    pd.DataFrame(diagnostics).to_parquet(out_diagnostics, index=False)
    return rejected


def merge(paths: list[str | Path], out: str | Path) -> None:
    """Concatenate tables of patients or batches (features, diagnostics, perturbed rows) into one, sorted by
    centre, patient and structure, in_order (so the table does not depend on how patients were batched when a
    batch lacks a column). A patient without any usable ROI writes an empty table (without columns when it is a
    diagnostics table): such tables add no rows and are left out."""
    frames = [frame for frame in map(pd.read_parquet, paths) if set(KEYS) <= set(frame.columns)]
    kept = [frame for frame in frames if len(frame)] or frames[:1] or [pd.DataFrame(columns=KEYS)]
    merged = pd.concat(kept, ignore_index=True)
    merged = in_order(merged).sort_values(["centre", "patient", "structure"], kind="stable")
    merged.reset_index(drop=True).to_parquet(out)


def in_order(table: pd.DataFrame) -> pd.DataFrame:
    """The key columns first, the others by name: one column order for a patient's table and any merge of them."""
    keys = [c for c in table.columns if c in KEYS]
    return table[keys + sorted(c for c in table.columns if c not in KEYS)]
