"""Prediction models: sample size, performance, bootstrap internal validation and decision curves (TRIPOD+AI).

Kept free of imports: the rule files read TABLES and report_key when Snakemake parses them."""

TABLES = ("sample_size", "performance", "coefficients", "decision_curve", "failures", "calibration", "centres")


def report_key(model: str, table: str) -> str:
    """The report rules' input name of one table (results/prediction/<model>/<table>.csv) of one model."""
    return f"prediction_{model}_{table}"
