"""Open the study page in headless Chromium (no network): every figure drawn, no script error, and a
screenshot (kept under the test's tmp dir; set SPINESTUDY_SCREENSHOT=path to keep a copy)."""

import os
import re
import shutil
import subprocess

from spinestudy.report import study as report
from test_figures import chromium, synthetic_inputs  # noqa: F401 (fixture)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--virtual-time-budget=30000"]


def run(browser: str, page, profile, *args: str) -> str:
    done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=180, check=True)
    return done.stdout


def state(dom: str) -> dict:
    body = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'data-(\w+)="([^"]*)"', body))


def test_study_page_renders_in_chromium(chromium, config, tmp_path):  # noqa: F811
    page = report.write_study(synthetic_inputs(tmp_path / "inputs"), config, tmp_path / "study.html",
                              commit="test", date="2024-01-01")
    seen = state(run(chromium, page, tmp_path / "profile", "--dump-dom"))
    assert seen.get("figures") == str(len(report.FIGURES)), seen
    assert seen["rendered"] == seen["figures"] and seen["errors"] == "[]", seen
    shot = tmp_path / "study.png"
    run(chromium, page, tmp_path / "profile", "--hide-scrollbars", "--window-size=1200,4200", f"--screenshot={shot}")
    assert shot.stat().st_size > 50_000
    if os.environ.get("SPINESTUDY_SCREENSHOT"):
        shutil.copy(shot, os.environ["SPINESTUDY_SCREENSHOT"])


def test_the_check_catches_a_script_error(chromium, config, tmp_path):  # noqa: F811
    page = report.write_study({"flow": synthetic_inputs(tmp_path / "inputs")["flow"]}, config, tmp_path / "s.html",
                              commit="test", date="2024-01-01")
    page.write_text(page.read_text().replace("</body>", "<script>undefinedFunction()</script></body>"))
    seen = state(run(chromium, page, tmp_path / "profile", "--dump-dom"))
    assert "undefinedFunction" in seen["errors"].replace("&quot;", '"')
