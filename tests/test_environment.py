"""The installed environment: pins agree across files, and PyRadiomics keeps its LBP3D features."""

import re
import tomllib
from importlib.metadata import version

import SimpleITK as sitk
import yaml
from conftest import REPO
from radiomics import featureextractor


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([^\s;]+)", line.strip())
        if match:
            pins[match[1].lower()] = match[3]
    return pins


def test_environment_yml_and_pyproject_pin_the_same_versions():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pyproject = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pyproject and pyproject == _pins(pip_section)


def test_installed_versions_are_the_pinned_ones():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for name, pinned in _pins(project["dependencies"]).items():
        assert version(name) == pinned, name


def test_pyradiomics_lbp3d_features_are_present(shared_data):
    """PyRadiomics drops LBP3D silently when trimesh or scipy.special.sph_harm is missing."""
    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=25)
    extractor.disableAllImageTypes()
    extractor.enableImageTypeByName("LBP3D")
    extractor.disableAllFeatures()
    extractor.enableFeatureClassByName("firstorder")
    image = sitk.ReadImage(str(shared_data / "pyradiomics" / "brain1_image.nrrd"))
    mask = sitk.ReadImage(str(shared_data / "pyradiomics" / "brain1_label.nrrd"))
    features = [k for k in extractor.execute(image, mask) if not k.startswith("diagnostics")]
    lbp = [k for k in features if k.startswith("lbp-3D-")]
    assert {k.split("_")[0] for k in lbp} == {"lbp-3D-m1", "lbp-3D-m2", "lbp-3D-k"}
    assert len(lbp) == 3 * 18 and len(features) == len(lbp)
