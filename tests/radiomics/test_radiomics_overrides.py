"""spinestudy's replacements of PyRadiomics internals (overrides, log_filter) against PyRadiomics' own, unmodified
code on a real MR series (IBSI STS_002 T1 with its tumour mask): the same values, bit for bit, except GLCM MCC
(another eigensolver: within 1e-12 relative)."""

import numpy as np
import pytest
import SimpleITK as sitk
import threadpoolctl
from radiomics import featureextractor, glcm, imageoperations

from spinestudy.radiomics import log_filter, overrides

MCC = "MCC"
SETTINGS = {  # many grey levels, the demo's, few levels, asymmetric and weighted GLCMs
    "binWidth 5": {"binWidth": 5}, "binWidth 25": {"binWidth": 25}, "binCount 6": {"binCount": 6},
    "asymmetric GLCM": {"binWidth": 10, "symmetricalGLCM": False},
    "weighted GLCM": {"binWidth": 10, "weightingNorm": "euclidean"},
}


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def series(shared_data) -> tuple[sitk.Image, sitk.Image]:
    """The T1 series normalised as mr_default.yaml does (x 100, +-3 SD) and its tumour mask."""
    folder = shared_data / "dicom_mr_rtstruct/nifti/STS_002"
    image = sitk.ReadImage(str(folder / "MR_T1_image.nii.gz"))
    mask = sitk.ReadImage(str(folder / "MR_T1_mask.nii.gz"))
    return imageoperations.normalizeImage(image, normalizeScale=100, removeOutliers=3), mask


def _same(a: float, b: float) -> bool:
    return a == b or (np.isnan(a) and np.isnan(b))


def _features(settings: dict, images: list[tuple[sitk.Image, str]], mask: sitk.Image, bbox) -> dict[str, float]:
    ex = featureextractor.RadiomicsFeatureExtractor(**settings)
    ex.enableAllFeatures()
    out = {}
    for image, name in images:
        cropped, cropped_mask = imageoperations.cropToTumorMask(image, mask, bbox)
        out |= ex.computeFeatures(cropped, cropped_mask, name, **ex.settings)
    return {k: float(v) for k, v in out.items()}


@pytest.mark.parametrize("name", SETTINGS)
def test_overrides_give_pyradiomics_values(name, series, monkeypatch):
    """Original, wavelet and LBP3D images (hundreds to a few grey levels) of a real tumour: every feature of
    every class equal to PyRadiomics' unmodified code; MCC within 1e-12, from the symmetric solver where it applies."""
    image, mask = series
    settings = SETTINGS[name] | {"label": 1}
    bbox, _ = imageoperations.checkMask(image, mask, **settings)
    images = [(image, "original")]
    wavelets = imageoperations.getWaveletImage(image, mask)
    images += [(f, n) for f, n, _ in wavelets if n in ("wavelet-LLH", "wavelet-HHH")]
    images += [(f, n) for f, n, _ in imageoperations.getLBP3DImage(image, mask, label=1)]
    plain = _features(settings, images, mask, bbox)
    own_mcc = overrides._PYRADIOMICS[glcm.RadiomicsGLCM, "getMCCFeatureValue"]
    fallbacks = []
    monkeypatch.setitem(overrides._PYRADIOMICS, (glcm.RadiomicsGLCM, "getMCCFeatureValue"),
                        lambda self: fallbacks.append(1) or own_mcc(self))
    with overrides.faster():
        ours = _features(settings, images, mask, bbox)
    assert sorted(ours) == sorted(plain) and len(plain) == 93 * len(images)  # 18 first-order, 24 GLCM, ...
    for feature, value in plain.items():
        if feature.endswith(f"_glcm_{MCC}"):
            assert ours[feature] == pytest.approx(value, rel=1e-12, abs=0), feature
        else:
            assert _same(ours[feature], value), feature
    assert len(fallbacks) < len(images)  # the symmetric solver answered (LBP3D images may fall back)


def test_faster_replaces_pyradiomics_for_the_block_only():
    originals = {key: getattr(*key) for key in overrides._PYRADIOMICS}
    with overrides.faster():
        assert glcm.RadiomicsGLCM.getMCCFeatureValue is overrides._mcc
        assert imageoperations.getBinEdges is overrides.bin_edges
    assert {key: getattr(*key) for key in originals} == originals == overrides._PYRADIOMICS


def test_mcc_is_pyradiomics_own_where_the_second_eigenvalue_is_tiny():
    """Independent neighbours (two-level noise): Q is nearly of rank one, lambda_2 ~ 1e-6, where both solvers'
    rounding would show at 1e-9 of MCC: the value is PyRadiomics' own, bit for bit."""
    rng = np.random.default_rng(5)
    image = sitk.GetImageFromArray(rng.integers(0, 2, (16, 256, 256)).astype(np.float64))
    mask = sitk.GetImageFromArray(np.ones((16, 256, 256), np.uint8))
    ex = featureextractor.RadiomicsFeatureExtractor(binWidth=1)
    ex.disableAllFeatures()
    ex.enableFeaturesByName(glcm=[MCC])
    plain = ex.computeFeatures(image, mask, "original", **ex.settings)["original_glcm_MCC"]
    with overrides.faster():
        ours = ex.computeFeatures(image, mask, "original", **ex.settings)["original_glcm_MCC"]
    assert 0 < plain < 0.01 and ours == plain


def test_binning_is_reused_only_for_the_same_values_mask_and_settings(series):
    """Two masks and two bin widths in turn on one image: each class gets PyRadiomics' own discretisation."""
    image, mask = series
    eroded = sitk.BinaryErode(mask, (2, 2, 1))
    cases = [(mask, 25), (eroded, 25), (eroded, 10), (mask, 10)]
    bbox, _ = imageoperations.checkMask(image, mask, label=1)
    plain = [_features({"binWidth": w, "label": 1}, [(image, "original")], m, bbox) for m, w in cases]
    with overrides.faster():
        ours = [_features({"binWidth": w, "label": 1}, [(image, "original")], m, bbox) for m, w in cases]
    for mine, theirs in zip(ours, plain):
        assert sorted(mine) == sorted(theirs)
        assert all(_same(mine[k], v) for k, v in theirs.items() if MCC not in k)
    assert plain[0] != plain[1] != plain[2]


@pytest.mark.parametrize("pixel", [sitk.sitkFloat64, sitk.sitkFloat32, sitk.sitkInt16])
def test_log_on_a_box_equals_itk_on_the_whole_image(pixel, series):
    """log_filter's LoG on the tumour's box and on a box at the image's faces: ITK's LoG of the whole image
    there, bit for bit, for the sigmas PyRadiomics computes (200 mm skipped: wider than the image)."""
    image = sitk.Cast(series[0] if pixel != sitk.sitkInt16 else series[0] * 50, pixel)
    bbox, _ = imageoperations.checkMask(image, series[1], label=1)
    boxes = [(bbox[0::2], bbox[1::2] + 1), (np.zeros(3, int), np.array([40, 30, 8]))]
    settings = {"sigma": [1.0, 3.0, 200.0]}
    whole = {n: f for f, n, _ in imageoperations.getLoGImage(image, None, **settings)}
    assert sorted(whole) == ["log-sigma-1-0-mm-3D", "log-sigma-3-0-mm-3D"]
    for lower, upper in boxes:
        ours = {n: f for f, n, _ in log_filter.log_images(image, lower, upper, **settings)}
        assert sorted(ours) == sorted(whole)
        for name, filtered in ours.items():
            expected = whole[name][tuple(map(slice, lower, upper))]
            assert filtered.GetOrigin() == expected.GetOrigin() and filtered.GetSize() == expected.GetSize()
            assert np.array_equal(sitk.GetArrayViewFromImage(filtered), sitk.GetArrayViewFromImage(expected)), name
