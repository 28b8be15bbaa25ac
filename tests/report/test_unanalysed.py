"""Mapped but not analysed: a centre's mapped variable that no analysis reads is listed on the study page and
logged once; the shipped demo maps none."""

import copy
import logging

from spinestudy.report import unanalysed


def spider_like(config):
    """Centre B also maps disc herniation and spondylolisthesis, which only reader agreement reads."""
    changed = copy.deepcopy(config)
    columns = changed["centres"]["B"]["gradings"]["columns"]
    columns |= {"disc_herniation": "Herniation", "spondylolisthesis": "Listhesis"}
    for centre in changed["centres"].values():
        for read in ("gradings_reader2", "gradings_repeat", "gradings_consensus"):
            centre.pop(read, None)
    return changed


def test_the_shipped_demo_analyses_every_variable_it_maps(config):
    assert unanalysed.unanalysed(config) == {}
    assert unanalysed.html(config) == "<p>Every mapped variable is analysed.</p>"


def test_variables_no_analysis_reads_are_listed_by_centre_and_logged_once(config, caplog):
    changed = spider_like(config)
    assert unanalysed.unanalysed(changed) == {"B": ["disc_herniation", "spondylolisthesis"]}
    with caplog.at_level(logging.WARNING):
        page = unanalysed.html(changed)
    said = "centre B: disc_herniation, spondylolisthesis"
    assert f"Mapped but not analysed (no analysis of this study reads them): {said}." in page
    assert [r.getMessage() for r in caplog.records] == [
        f"mapped but not analysed (no analysis of this study reads them): {said}"]
    assert "Herniation" not in page  # the centre's column names stay out of results/


def test_a_second_read_makes_reader_agreement_read_them(config):
    changed = spider_like(config)
    changed["centres"]["B"]["gradings_reader2"] = {"path": "B_reader2.xlsx"}
    assert unanalysed.unanalysed(changed) == {}
