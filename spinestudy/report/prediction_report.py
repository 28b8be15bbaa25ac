"""The prediction models on the study page and in the checklist (TRIPOD+AI): per model the sample-size verdict,
the performance table (apparent, optimism, corrected), the calibration and decision-curve figures and the
performance per centre, from results/prediction/<model>/, named in the report inputs as
spinestudy.prediction.report_key names them."""

from html import escape
from pathlib import Path

import pandas as pd

from spinestudy.prediction import TABLES, report_key
from spinestudy.report import manuscript_tables
from spinestudy.report.figures import read
from spinestudy.report.manuscript_tables import Table, number

MEASURES = {"c_statistic": "C statistic", "r2_nagelkerke": "Nagelkerke R²", "citl": "Calibration-in-the-large",
            "slope": "Calibration slope", "brier": "Brier score", "brier_scaled": "Scaled Brier score",
            "ici": "ICI", "e50": "E50", "e90": "E90", "emax": "Emax"}
SOURCE = "results/prediction/{model}/{table}.csv"


def model_inputs(inputs: dict[str, Path], model: str) -> dict[str, Path]:
    """The model's tables among the report inputs, by table name (the figure functions' parameters)."""
    return {name: inputs[report_key(model, name)] for name in TABLES if report_key(model, name) in inputs}


def verdict(sample_size: Path | None) -> str:
    """Whether the complete cases reach Riley et al.'s minimum sample size, in one sentence."""
    table = read(sample_size)
    if table.empty:
        return "No sample-size calculation available."
    if "criterion" not in table or table["criterion"].isna().all():
        return f"Sample size not calculated: {table['note'].iloc[0]}."
    final = table.set_index("criterion").loc["final"]
    criteria = table[table["criterion"] != "final"]
    binding = criteria.loc[criteria["n"].idxmax(), "criterion"]
    have = (f"{int(final['n_available'])} complete cases with {int(final['events_available'])} events "
            f"({final['epp_available']:.1f} per predictor parameter)")
    need = (f"at least {int(final['n'])} patients ({final['events']:.0f} events, {final['epp']:.1f} per parameter; "
            f"binding criterion: {binding}) for {int(final['parameters'])} parameters, an anticipated Cox-Snell R² of "
            f"{final['r2_cs']:.3f} and a prevalence of {final['prevalence']:.3f}")
    if bool(final["enough"]):
        return f"Sample size (Riley et al. 2020): the {have} meet the minimum of {need}."
    return f"Sample size (Riley et al. 2020): the data fall short: {have}, where {need} are needed."


def performance_table(model: str, performance: Path | None) -> Table | None:
    """Apparent, optimism and optimism-corrected performance (the apparent C with its CI)."""
    data = read(performance)
    if data.empty:
        return None
    notes = data["note"].dropna()
    rows = []
    for row in data.to_dict("records"):
        apparent = number(row["index.orig"])
        if pd.notna(row.get("ci_low")) and apparent:
            apparent += f" [{number(row['ci_low'])}; {number(row['ci_high'])}]"
        rows.append([MEASURES.get(row["measure"], row["measure"]), apparent or "–", number(row["optimism"]) or "–",
                     number(row["index.corrected"]) or "–", "" if pd.isna(row["n"]) else str(int(row["n"]))])
    frame = pd.DataFrame(rows, columns=["Measure", "Apparent", "Optimism", "Corrected", "Replicates"])
    first = data.iloc[0]
    footnote = (f"Bootstrap optimism correction, {int(first['bootstraps'])} replicates, {int(first['failed'])} "
                "failed; the apparent C statistic with its 95% DeLong interval." if pd.notna(first["failed"]) else "")
    if len(notes) and notes.iloc[0]:
        footnote = f"{footnote} {notes.iloc[0]}".strip()
    return Table(f"prediction-{model}", f"Performance of prediction model {model}", frame, footnote)


def centres_table(model: str, centres: Path | None) -> Table | None:
    """C statistic, calibration-in-the-large and slope per centre, each with its 95% CI, or why not."""
    data = read(centres)
    if data.empty:
        return None

    def cell(row, name, prefix):
        value = number(row[name])
        return f"{value} [{number(row[prefix + '_ci_low'])}; {number(row[prefix + '_ci_high'])}]" if value else "–"

    rows = [["All centres" if r["centre"] == "all" else str(r["centre"]), str(int(r["n"])), str(int(r["events"])),
             cell(r, "c_statistic", "c"), cell(r, "citl", "citl"), cell(r, "slope", "slope"),
             "" if pd.isna(r["note"]) else str(r["note"])] for r in data.to_dict("records")]
    frame = pd.DataFrame(rows, columns=["Centre", "n", "Events", "C statistic", "Calibration-in-the-large",
                                        "Calibration slope", "Note"])
    return Table(f"prediction-{model}-centres", f"Performance of prediction model {model} per centre", frame,
                 "The model developed on all centres (apparent performance); 95% CIs: DeLong (C), Wald (GLM).")


def section(config: dict, inputs: dict[str, Path], figure_html) -> str:
    """The page's prediction section: per configured model with inputs, the verdict, tables and figures
    (figure_html(name, model inputs, div id) renders one figure)."""
    parts = []
    for model in config.get("prediction", {}).get("models", {}):
        files = model_inputs(inputs, model)
        if not files:
            continue
        performance, centres = performance_table(model, files.get("performance")), centres_table(model,
                                                                                                 files.get("centres"))
        parts += [f'<h3 id="prediction-{escape(model)}">Prediction model {escape(model)}</h3>',
                  f'<p class="verdict">{escape(verdict(files.get("sample_size")))}</p>',
                  manuscript_tables.to_html(performance) if performance else "",
                  figure_html("calibration", files, f"calibration-{model}"),
                  figure_html("decision_curve", files, f"decision_curve-{model}"),
                  manuscript_tables.to_html(centres) if centres else ""]
    return '<h2 id="prediction">Prediction models</h2>' + "".join(parts) if parts else ""


def methods(config: dict) -> str:
    """The prediction paragraph of the methods, from the configuration ('' without models)."""
    cfg = config.get("prediction", {})
    models = cfg.get("models", {})
    if not models:
        return ""
    listed = "; ".join(f"{name}: {spec['outcome']} from {', '.join(spec['predictors'])} ({spec['method']})"
                       for name, spec in models.items())
    t = cfg.get("thresholds", {})
    return (f"Prediction models ({listed}) were developed on complete cases and validated internally by the "
            f"bootstrap ({cfg.get('bootstraps')} replicates, each repeating the whole development including the "
            "penalty choice; Harrell's optimism correction). The minimum sample size followed Riley et al. (2020). "
            "Calibration was assessed by calibration-in-the-large, the calibration slope and a flexible calibration "
            "curve (lowess, span 0.75) with a 95% bootstrap percentile band and its optimism-corrected version "
            f"(as rms::calibrate); clinical utility by decision curves (thresholds {t.get('low')} to {t.get('high')});"
            " heterogeneity by the C statistic and calibration per centre (centres with fewer than "
            f"{cfg.get('min_events')} patients with or without the outcome not estimated).")


def checklist_rows(config: dict, inputs: dict[str, Path]) -> list[tuple[str, str, str | None, str]]:
    """TRIPOD+AI rows (checklist, item, value or None for the authors, source) per configured model."""
    cfg = config.get("prediction", {})
    rows = []
    for model, spec in cfg.get("models", {}).items():
        files = model_inputs(inputs, model)
        size = verdict(files["sample_size"]) if "sample_size" in files else None
        perf = read(files.get("performance"))
        perf = perf.set_index("measure") if "measure" in perf else perf
        c = perf.loc["c_statistic"] if "c_statistic" in perf.index else pd.Series(dtype=float)
        validation = (f"bootstrap optimism correction, {int(c['bootstraps'])} replicates ({int(c['failed'])} failed), "
                      f"every replicate repeating the {spec['method']} development" if pd.notna(c.get("n")) else None)
        calibration = None
        if "slope" in perf.index and pd.notna(perf.loc["slope", "index.orig"]):
            slope, citl = perf.loc["slope"], perf.loc["citl"]
            calibration = (f"slope {slope['index.orig']:.3f} apparent, {slope['index.corrected']:.3f} corrected; "
                           f"calibration-in-the-large {citl['index.orig']:.3f} apparent, {citl['index.corrected']:.3f} "
                           "corrected; lowess curve with 95% bootstrap band and optimism-corrected curve")
        curve = read(files.get("decision_curve"))
        decision = (f"net benefit of the model, treat all and treat none, interventions avoided per 100, thresholds "
                    f"{curve['threshold'].min():g} to {curve['threshold'].max():g}" if not curve.empty else None)
        source = SOURCE.format(model=model, table="{}")
        rows += [("TRIPOD+AI", f"Sample size ({model})", size, source.format("sample_size")),
                 ("TRIPOD+AI", f"Internal validation method ({model})", validation, source.format("performance")),
                 ("TRIPOD+AI", f"Calibration ({model})", calibration,
                  f"{source.format('performance')}, {source.format('calibration')}"),
                 ("TRIPOD+AI", f"Decision curve ({model})", decision, source.format("decision_curve"))]
    return rows
