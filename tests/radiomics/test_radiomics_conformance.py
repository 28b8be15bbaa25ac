"""Conformance matrix: spinestudy's extraction equals plain PyRadiomics 3.0.1 for PyRadiomics' own example
parameter files and the project's, each as written and with preCrop flipped, on a 3-D volume with two ROIs
(one within the filters' reach of an image face), a single-slice volume and a 2-D image.

Each cell also checks the path taken: shared filters (own grid), resampled crops (resampling, with or without
preCrop, which PyRadiomics then ignores) or PyRadiomics' own. Same feature names, values within 1e-4 relative
where the shared-filter path crops the LoG (ITK's recursive Gaussian, cut 12 sigma out) and 1e-9 everywhere
else (the resampled path included); where PyRadiomics refuses an ROI, spinestudy gives its reason. A file
whose padDistance is narrower than its LoG kernel (exampleCT: 10 voxels at 1 mm, sigma up to 5 mm) runs too.
The images are small crops (equality needs no realistic size) so that every cell stays cheap.
"""

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import threadpoolctl
import yaml
from radiomics import featureextractor, imageoperations
from scipy import ndimage

from spinestudy.radiomics import extract as rx
from spinestudy.radiomics import fast_path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ["MR_2D_extraction", "Params", "exampleCT", "exampleMR_3mm", "exampleMR_5mm", "exampleMR_NoResampling",
            "example_allShape"]
PROJECT = ["ibsi_phantom", "mr_default", "mr_demo", "mr_quick"]
IMAGES = ["volume", "single slice", "2-D"]
SMALL = {"mr_default"}  # 1 mm resampling with every filter, LBP3D included: its volume is the small one
LABELS = (1, 2)  # 1 central, 2 at the image's last x voxels (and within the filters' reach of z = 0)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """One BLAS thread, as extraction jobs run: GLCM MCC eigenvalues with several on a busy machine are slow."""
    with threadpoolctl.threadpool_limits(1):
        yield


def _texture(shape: tuple, seed: int) -> np.ndarray:
    """Integer MR-like intensities: a bright body over smooth noise."""
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.normal(size=shape), 1.0)
    return 300 + 60 * noise / noise.std()


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """(image, label map) NRRD files: a 36 x 32 x 8 sagittal-like volume (0.9 x 0.9 x 4 mm), its slice 3 as a
    single-slice volume and as a 2-D image, and a small 24 x 20 x 6 crop of it. ROI 1 is an ellipsoid in the
    middle, ROI 2 touches the x = 35 face; along y both are far enough from the faces for the small filters'
    crops to stay inside."""
    k, j, i = np.ogrid[:8, :32, :36]
    labels = np.zeros((8, 32, 36), np.uint8)
    labels[((i - 20) / 5) ** 2 + ((j - 16) / 5) ** 2 + ((k - 4) / 2.2) ** 2 <= 1] = 1
    labels[((i - 32) / 3.5) ** 2 + ((j - 16) / 4) ** 2 + ((k - 2) / 1.6) ** 2 <= 1] = 2
    values = (_texture(labels.shape, 0) + 80 * (labels > 0)).astype(np.int16)
    folder = tmp_path_factory.mktemp("conformance")
    out = {}
    small = (slice(1, 7), slice(6, 26), slice(12, 36))
    for kind, (image, mask) in {"volume": (values, labels), "single slice": (values[3:4], labels[3:4]),
                                "2-D": (values[3], labels[3]), "small volume": (values[small], labels[small])}.items():
        paths = folder / f"{kind}.nrrd", folder / f"{kind}_label.nrrd"
        for array, path in zip((image, mask), paths):
            item = sitk.GetImageFromArray(array)
            if array.ndim == 3:
                item.SetSpacing((0.9, 0.9, 4.0))
                item.SetDirection((0, 0, -1, 1, 0, 0, 0, -1, 0))
                item.SetOrigin((12.0, -80.0, 40.0))
            else:
                item.SetSpacing((0.9, 0.9))
                item.SetOrigin((-80.0, 40.0))
            sitk.WriteImage(item, str(path))
        out[kind] = paths
    return out


def _params(name: str, shared_data: Path) -> Path:
    return (shared_data / "pyradiomics/exampleSettings" if name in EXAMPLES else REPO / "config/radiomics") / (
        f"{name}.yaml")


def _flipped(path: Path, folder: Path) -> Path:
    """The parameter file with preCrop flipped (PyRadiomics' default is false)."""
    params = yaml.safe_load(path.read_text())
    params.setdefault("setting", {})
    params["setting"]["preCrop"] = not params["setting"].get("preCrop", False)
    out = folder / f"{path.stem}_precrop_flipped.yaml"
    out.write_text(yaml.safe_dump(params))
    return out


def _plain(params: Path, image: Path, mask: Path, label: int) -> dict[str, float] | str:
    """Plain PyRadiomics on the files, as its batch CLI runs it; or the reason it refuses the ROI."""
    try:
        result = featureextractor.RadiomicsFeatureExtractor(str(params)).execute(str(image), str(mask), label=label)
    except (ValueError, AssertionError) as exc:
        return f"PyRadiomics: {exc}"
    return {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}


@pytest.mark.parametrize("kind", IMAGES)
@pytest.mark.parametrize("flip", [False, True], ids=["as written", "preCrop flipped"])
@pytest.mark.parametrize("name", EXAMPLES + PROJECT)
def test_extraction_equals_plain_pyradiomics(name, flip, kind, images, shared_data, tmp_path):
    params = _params(name, shared_data)
    params = _flipped(params, tmp_path) if flip else params
    ex = rx.extractor(params)
    s = ex.settings
    image_path, mask_path = images["small volume" if kind == "volume" and name in SMALL else kind]
    image, label_map = sitk.ReadImage(str(image_path)), sitk.ReadImage(str(mask_path))
    resampled = s["resampledPixelSpacing"] is not None
    own = kind == "2-D" or s["force2D"] or (s["preCrop"] and not resampled)
    path = rx.extraction_path(ex, image)
    assert path.startswith("pyradiomics (") if own else path == (rx.RESAMPLED if resampled else rx.SHARED)
    ours = rx.extract_series(ex, rx.normalised(image, s), {v: sitk.Cast(label_map == v, sitk.sitkUInt8)
                                                           for v in LABELS})
    for label in LABELS:
        plain = _plain(params, image_path, mask_path, label)
        if isinstance(plain, str):
            assert ours[label] == plain
            continue
        assert not isinstance(ours[label], str), ours[label]
        assert sorted(ours[label]) == sorted(plain)
        for feature, value in plain.items():
            rtol = 1e-4 if feature.startswith("log-") and not own and not resampled else 1e-9
            assert ours[label][feature] == pytest.approx(value, rel=rtol, abs=1e-12), (label, feature)


def test_log_is_skipped_where_pyradiomics_skips_it(images, shared_data):
    """Fewer than 4 slices: no LoG image in PyRadiomics, none in spinestudy (the shared-filter path)."""
    ex = rx.extractor(REPO / "config/radiomics/mr_quick.yaml")
    image, label_map = (sitk.ReadImage(str(p)) for p in images["single slice"])
    features = rx.extract_series(ex, rx.normalised(image, ex.settings), {1: label_map == 1})[1]
    assert rx.extraction_path(ex, image) == rx.SHARED
    assert not [f for f in features if f.startswith("log-")]
    assert [f for f in features if f.startswith("gradient_")]


def test_wavelet_crop_at_one_face_spans_the_axis(images):
    """PyRadiomics' wavelet wraps around the whole image: a crop clipped at the last x voxel alone gives other
    values in the ROI's box (the error of issue 19), so filter_box extends it to the whole x axis."""
    image, label_map = (sitk.ReadImage(str(p)) for p in images["volume"])
    bbox, _ = imageoperations.checkMask(image, label_map, label=2)
    lower, upper = bbox[0::2], bbox[1::2] + 1
    settings = {"wavelet": "db2"}
    box_lower, box_upper = fast_path.filter_box("Wavelet", {}, settings, image, lower, upper)
    assert box_lower[0] == 0 and box_upper[0] == image.GetSize()[0]  # whole x axis
    assert box_upper[1] < image.GetSize()[1]  # y stays cropped: the ROI is away from both y faces
    pad = fast_path.kernel_pad({"Wavelet": {}}, settings, image.GetSpacing())
    clipped_lower, clipped_upper = np.maximum(lower - pad, 0), np.minimum(upper + pad, image.GetSize())

    def response(crop_lower, crop_upper):
        crop = image[tuple(map(slice, crop_lower, crop_upper))]
        filtered = {n: f for f, n, _ in imageoperations.getWaveletImage(crop, None, **settings)}
        roi = tuple(map(slice, lower - crop_lower, upper - crop_lower))
        return sitk.GetArrayFromImage(filtered["wavelet-HLL"][roi])

    whole = response(np.zeros(3, int), np.array(image.GetSize()))
    assert np.array_equal(response(box_lower, box_upper), whole)
    assert np.abs(response(clipped_lower, clipped_upper) - whole).max() > 0.01 * np.ptp(whole)
