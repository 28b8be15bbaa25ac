"""Open the study page in headless Chromium (no network): every figure drawn, no script error, and a
screenshot (kept under the test's tmp dir; set SPINESTUDY_SCREENSHOT=path to keep a copy)."""

import json
import os
import re
import shutil
import subprocess
from html import unescape

from spinestudy.report import study as report
from stats_cohort import rudds_results
from test_figures import synthetic_inputs

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--virtual-time-budget=30000"]


def run(browser: str, page, profile, *args: str) -> str:
    done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=180, check=True)
    return done.stdout


def state(dom: str) -> dict:
    body = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'data-(\w+)="([^"]*)"', body))


def test_study_page_renders_in_chromium(chromium, config, tmp_path):
    page = report.write_study(synthetic_inputs(tmp_path / "inputs"), config, tmp_path / "study.html",
                              commit="test", date="2024-01-01")
    dom = run(chromium, page, tmp_path / "profile", "--dump-dom")
    seen = state(dom)
    assert seen.get("figures") == str(len(report.FIGURES)), seen  # the prediction model's two among them
    assert 'id="figure-calibration-rudds_mcid"' in dom and 'id="figure-decision_curve-rudds_mcid"' in dom
    assert seen["rendered"] == seen["figures"] and seen["errors"] == "[]", seen
    shot = tmp_path / "study.png"
    run(chromium, page, tmp_path / "profile", "--hide-scrollbars", "--window-size=1200,4200", f"--screenshot={shot}")
    assert shot.stat().st_size > 50_000
    if os.environ.get("SPINESTUDY_SCREENSHOT"):
        shutil.copy(shot, os.environ["SPINESTUDY_SCREENSHOT"])


def test_the_check_catches_a_script_error(chromium, config, tmp_path):
    page = report.write_study({"flow": synthetic_inputs(tmp_path / "inputs")["flow"]}, config, tmp_path / "s.html",
                              commit="test", date="2024-01-01")
    page.write_text(page.read_text().replace("</body>", "<script>undefinedFunction()</script></body>"))
    seen = state(run(chromium, page, tmp_path / "profile", "--dump-dom"))
    assert "undefinedFunction" in seen["errors"].replace("&quot;", '"')


def rows(dom: str, table_id: str) -> list[list[str]]:
    """Cell texts of the rendered table with the given id."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', dom, re.DOTALL) or \
        re.search(rf'id="{table_id}".*?<table.*?</table>', dom, re.DOTALL)
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row,
                                                                                 re.DOTALL)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0), re.DOTALL)]


def test_study_page_shows_table2_associations_and_both_classifier_estimates(chromium, config, tmp_path):
    """Table 2 and the associations of the RuDDS-sized demo tables: estimates with intervals in every group but
    the facet-joint MCID model (not estimable, as in RuDDS); the classifier table: nested and paper estimates."""
    inputs = synthetic_inputs(tmp_path / "inputs")
    inputs |= rudds_results(tmp_path / "stats", config)[0]
    page = report.write_study(inputs, config, tmp_path / "study.html", commit="test", date="2024-01-01")
    dom = run(chromium, page, tmp_path / "profile", "--dump-dom")
    assert state(dom)["errors"] == "[]"
    table2 = rows(dom, "table-table2")
    header, body = table2[0], [r for r in table2[1:] if any(r[1:])]
    assert header[1:] == ["Total", "Facet joint pain", "Lumbar disc herniation", "Degenerative stenosis",
                          "Degenerative deformity"]
    assert len(body) == 12
    interval = re.compile(r"^-?[0-9][^\[\]]* \[[^;\]]+; [^\]]+\]")  # estimate [low; high], also 1.2 × 10-5
    for k, row in enumerate(body):
        cells, mcid = dict(zip(header[1:], row[1:])), k >= 6
        for group, cell in cells.items():
            assert (cell == "–") if mcid and group == "Facet joint pain" else interval.match(cell), (row[0], group, cell)
    associations = rows(dom, "table-associations")
    betas = [r[3] for r in associations[1:] if r[0] != "longitudinal, no baseline pain"]
    assert len(betas) == 20 and all(interval.match(b) for b in betas)
    result = json.loads(inputs["classifier"].read_text())
    classifier = {r[0]: r[1:] for r in rows(dom, "table-classifier")}
    for k, scheme in enumerate(("nested", "paper")):
        shown = float(classifier["Accuracy"][k].split(" [")[0])
        assert shown == round(result[scheme]["metrics"]["accuracy"]["estimate"], 3)
