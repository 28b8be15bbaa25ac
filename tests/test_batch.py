"""Batch size: `batch_digits: auto` keeps one job per patient in a small study and batches a large one."""

import pytest

from spinestudy.batch import auto_digits


@pytest.mark.parametrize("patients, digits", [(1, 12), (40, 12), (1000, 12), (1001, 2), (10_000, 2), (65_535, 2),
                                              (65_536, 3), (1_048_575, 3), (1_048_576, 4)])
def test_auto_digits_follow_the_study_size(patients, digits):
    assert auto_digits(patients) == digits


def test_auto_digits_are_stable_within_a_size_band():
    assert {auto_digits(n) for n in range(1001, 65_536, 7)} == {2}
