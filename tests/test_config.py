"""The shipped config satisfies the schema, and a broken one is refused with the key named."""

import copy

import pytest

from spinestudy.config import ConfigError, validate


def test_shipped_config_is_valid(config):
    assert validate(config) is config


def test_images_pattern_or_mapping_is_valid_instead_of_dicom(config):
    for images in ("/data/north/{id}/{sequence}.nii.gz", {"T1": "/spider/{id}_t1.mha", "T2": "/spider/{id}_t2.mha"}):
        changed = copy.deepcopy(config)
        changed["centres"]["A"].pop("dicom")
        changed["centres"]["A"]["images"] = images
        assert validate(changed) is changed


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda c: c.update(cohort="demos"), "cohort: 'demos' is not one of ['demo', 'own']"),
        (lambda c: c.update(batch_digits=13), "batch_digits: 13 is not valid under any of the given schemas"),
        (lambda c: c["ingest"].update(sequences=["T3"]), "ingest/sequences/0"),
        (lambda c: c["ingest"]["sequence_rules"].append({"sequence": "T1", "tr": [1]}), "ingest/sequence_rules/7/tr"),
        (lambda c: c["centres"]["A"].update(dicm="x"), "centres/A: Additional properties are not allowed ('dicm'"),
        (lambda c: c["ingest"].pop("orientation"), "ingest: 'orientation' is a required property"),
        (lambda c: c["ingest"]["sequence_rules"].append({"sequence": "T1", "description": "(t1"}),
         "ingest/sequence_rules/7/description: '(t1' is not a 'regex'"),
        (lambda c: c["centres"]["A"].update(images="/data/{id}/T2.nii.gz"), "centres/A: {'dicom': "),
        (lambda c: c["centres"]["B"].pop("dicom") and c["centres"]["B"].update(images={"T2": "/data/T2.nrrd"}),
         "centres/B/images: {'T2': '/data/T2.nrrd'} is not valid under any of the given schemas"),
        (lambda c: c["centres"]["A"]["clinical"].update(missing="999"),
         "centres/A/clinical/missing: '999' is not of type 'array'"),
        (lambda c: c["tables"].update(mcid_threshold=1.2),
         "tables/mcid_threshold: moved to the study file: the threshold of its derived variable mcid"),
    ],
)
def test_broken_config_names_the_key(config, change, named):
    broken = copy.deepcopy(config)
    change(broken)
    with pytest.raises(ConfigError) as err:
        validate(broken)
    assert named in str(err.value)
