"""The prediction models on the study page and in the checklist: the decision-curve figure against the
textbook formula (a hand-worked example), the calibration figure's traces against its table, the sample-size
verdict, the page's figure divs and tables, and the TRIPOD+AI rows."""

import numpy as np
import pandas as pd
import pytest

from spinestudy.prediction import decision_curve, report_key
from spinestudy.prediction import outputs as prediction_outputs
from spinestudy.report import prediction_figures, prediction_report
from spinestudy.report import study as report
from stats_cohort import cohort
from test_figures import prediction_inputs

MODEL = "rudds_mcid"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return prediction_inputs(tmp_path_factory.mktemp("prediction"), MODEL)


def traces(fig) -> dict:
    return {t.name: t for t in fig.data if t.name}


def test_interventions_avoided_on_a_hand_worked_example(tmp_path):
    # 100 patients, 20 with the outcome; at t = 0.25 the model treats 30, 15 with the outcome:
    # NB model = 15/100 - 15/100 * (0.25/0.75) = 0.1; NB all = 0.2 - 0.8/3 = -0.0667;
    # avoided = (0.1 + 0.0667) / (1/3) * 100 = 50 per 100
    y = np.r_[np.ones(20), np.zeros(80)]
    risk = np.r_[np.full(15, 0.5), np.full(5, 0.1), np.full(15, 0.3), np.full(65, 0.05)]
    decision_curve.table(y, risk, np.array([0.1, 0.25])).to_csv(tmp_path / "dc.csv", index=False)
    avoided = traces(prediction_figures.figure_decision_curve(tmp_path / "dc.csv"))["Interventions avoided"]
    assert avoided.y[1] == pytest.approx(50)
    # t = 0.1 (risk >= t treated): all 20 with the outcome and 15 without; NB model = 0.2 - 0.15/9 = 0.18333,
    # NB all = 0.2 - 0.8/9 = 0.11111; avoided = 0.07222 * 9 * 100 = 65 per 100
    assert avoided.y[0] == pytest.approx(65)


def test_decision_curve_figure_shows_the_three_strategies_and_the_formula(inputs):
    table = pd.read_csv(inputs["decision_curve"])
    shown = traces(prediction_figures.figure_decision_curve(inputs["decision_curve"]))
    assert list(shown["Model"].y) == pytest.approx(table["net_benefit_model"].tolist())
    assert list(shown["Treat all"].y) == pytest.approx(table["net_benefit_all"].tolist())
    assert set(shown["Treat none"].y) == {0.0}
    t = table["threshold"]
    textbook = (table["net_benefit_model"] - table["net_benefit_all"]) / (t / (1 - t)) * 100
    assert list(shown["Interventions avoided"].y) == pytest.approx(textbook.tolist())
    assert 0 < t.min() and t.max() < 1


def test_calibration_figure_draws_its_table(inputs):
    table = pd.read_csv(inputs["calibration"])
    shown = traces(prediction_figures.figure_calibration(inputs["calibration"]))
    assert set(shown) == {"Ideal", "95% bootstrap band", "Apparent (lowess)", "Optimism-corrected",
                          "With the outcome", "Without the outcome"}
    assert list(shown["Apparent (lowess)"].y) == pytest.approx(table["apparent"].tolist())
    assert list(shown["Optimism-corrected"].y) == pytest.approx(table["corrected"].tolist())
    band = np.asarray(shown["95% bootstrap band"].y)
    assert band[:len(table)].tolist() == pytest.approx(table["ci_high"].tolist())
    assert sum(shown["With the outcome"].y) == table["with_outcome"].sum()
    assert -sum(shown["Without the outcome"].y) == table["without_outcome"].sum()


def test_verdict_says_when_the_data_fall_short(inputs, tmp_path):
    size = pd.read_csv(inputs[report_key(MODEL, "sample_size")])
    final = size.set_index("criterion").loc["final"]
    text = prediction_report.verdict(inputs[report_key(MODEL, "sample_size")])
    assert not final["enough"] and "the data fall short" in text
    assert f"{int(final['n_available'])} complete cases" in text and f"at least {int(final['n'])} patients" in text
    size.assign(enough=True).to_csv(tmp_path / "s.csv", index=False)
    assert "meet the minimum" in prediction_report.verdict(tmp_path / "s.csv")


def test_study_page_has_the_prediction_section(inputs, config, tmp_path):
    page = report.write_study(inputs, config, tmp_path / "study.html", commit="t", date="d").read_text()
    for anchor in ("calibration", "decision_curve"):
        assert page.count(f'<div id="figure-{anchor}-{MODEL}" class="plotly-graph-div"') == 1
    assert f'id="table-prediction-{MODEL}"' in page and f'id="table-prediction-{MODEL}-centres"' in page
    assert page.index('id="prediction"') < page.index(f"figure-calibration-{MODEL}")
    assert "the data fall short" in page and "Prediction models (rudds_mcid: mcid from" in page


def test_checklist_rows_come_from_the_model_tables(inputs, config):
    table = report.checklist(config, prediction=inputs)
    rows = table[table["checklist"] == "TRIPOD+AI"].set_index("item")
    assert (rows["status"] == "filled").all() and len(rows) == 4
    perf = pd.read_csv(inputs[report_key(MODEL, "performance")]).set_index("measure")
    calibration = rows.loc[f"Calibration ({MODEL})", "value"]
    assert f"slope {perf.loc['slope', 'index.orig']:.3f} apparent" in calibration
    assert f"{perf.loc['slope', 'index.corrected']:.3f} corrected" in calibration
    assert f"{int(perf['bootstraps'].iloc[0])} replicates" in rows.loc[f"Internal validation method ({MODEL})", "value"]
    assert "thresholds 0.05 to 0.8" in rows.loc[f"Decision curve ({MODEL})", "value"]


def test_a_model_that_is_not_estimable_says_so_on_the_page(config, tmp_path):
    settings = config["prediction"] | {"bootstraps": 5, "model": MODEL}
    tables = prediction_outputs.build(cohort(60, seed=7)[0], settings)  # too few events: the tables' notes
    inputs = {}
    for name, frame in tables.items():
        inputs[report_key(MODEL, name)] = tmp_path / f"{name}.csv"
        frame.to_csv(inputs[report_key(MODEL, name)], index=False)
    page = report.write_study(inputs, config, tmp_path / "study.html", commit="t", date="d").read_text()
    assert page.count('class="plotly-graph-div"') == 2 and "model not estimable" in page
    assert "not estimable: " in page and "the data fall short" in page
    rows = report.checklist(config, prediction=inputs).set_index("item")
    assert rows.loc[f"Sample size ({MODEL})", "status"] == "filled"
    assert rows.loc[f"Calibration ({MODEL})", "value"] == report.FOR_AUTHORS
