# Prediction models (TRIPOD+AI): one per entry of config prediction/models, fitted on the analysis table, with
# Riley et al.'s sample size, bootstrap optimism-corrected performance, the full model, the decision curve, the
# calibration curve and the performance per centre.
from spinestudy.prediction import TABLES as PREDICTION_FILES

PREDICTION_OUTPUTS = expand(
    "results/prediction/{model}/{name}.csv", model=sorted(config["prediction"]["models"]), name=PREDICTION_FILES
)


rule prediction:
    input:
        analysis="results/tables/analysis.parquet",
    output:
        **{f"out_{name}": f"results/prediction/{{model}}/{name}.csv" for name in PREDICTION_FILES},
    log:
        "logs/prediction_{model}.log",
    wildcard_constraints:
        model=one_of(config["prediction"]["models"]),
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        module="prediction.outputs",
        settings=lambda wildcards: config["prediction"] | {"model": wildcards.model},
    script:
        "../../scripts/write_outputs.py"
