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


def _conda_env(path) -> tuple[list[str], list[str]]:
    """A conda environment file's conda packages and pip requirements."""
    dependencies = yaml.safe_load(path.read_text())["dependencies"]
    return [d for d in dependencies if isinstance(d, str)], next(d["pip"] for d in dependencies if isinstance(d, dict))


def test_environment_yml_and_pyproject_pin_the_same_versions():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pyproject = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    assert pyproject and pyproject == _pins(_conda_env(REPO / "environment.yml")[1])


def test_rules_conda_environment_pins_the_same_versions():
    """workflow/envs/spinestudy.yaml (every rule's `conda:`) plus what its post-deploy script installs: the
    run-time pins of pyproject.toml, on the Python of environment.yml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    conda, pip = _conda_env(REPO / "workflow/envs/spinestudy.yaml")
    post_deploy = (REPO / "workflow/envs/spinestudy.post-deploy.sh").read_text()
    installed = re.findall(r"^python -m pip install .*?(\S+==\S+)$", post_deploy, re.MULTILINE)
    assert installed == ["pyradiomics==3.0.1"] and "pip install --no-deps -e ." in post_deploy
    assert _pins(pip + installed) == _pins(project["dependencies"])
    python = [d for d in conda if d.startswith("python=")]
    assert python == [d for d in _conda_env(REPO / "environment.yml")[0] if d.startswith("python=")] == ["python=3.11"]


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
