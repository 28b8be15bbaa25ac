# Clinical statistics: one target per manuscript table (RuDDS Table 1, Supplemental Table 1, Figure 2,
# Table 2; Kasch-style associations), each computed by spinestudy.<module>.write from the analysis tables,
# and the readers' agreement from every read of the gradings.
STATS = {
    "table1": "table1.csv",
    "posthoc": "posthoc.csv",
    "prevalence": "prevalence_by_decade.csv",
    "lasso": "lasso.csv",
    "associations": "associations.csv",
}
NEEDS_GRADINGS = {"table1", "posthoc", "prevalence"}

for module, filename in STATS.items():

    rule:
        name:
            f"stats_{module}"
        input:
            **({"gradings": "results/tables/gradings_long.parquet"} if module in NEEDS_GRADINGS else {}),
            analysis="results/tables/analysis.parquet",
            study=STUDY.path,  # rows, groups, age bands, measures
        output:
            out=f"results/stats/{filename}",
        log:
            f"logs/stats_{module}.log",
        conda:
            "../envs/spinestudy.yaml"
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            module=f"stats.{module}",
            settings=config["stats"],
        script:
            "../../scripts/write_outputs.py"


rule stats_agreement:
    input:
        reads="results/tables/reads_long.parquet",
        study=STUDY.path,  # the patient scores' derived variables
    output:
        out="results/stats/agreement.csv",
        confusion="results/stats/agreement_confusion.csv",
    log:
        "logs/stats_agreement.log",
    conda:
        "../envs/spinestudy.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        module="stats.agreement",
        settings=config["stats"],
    script:
        "../../scripts/write_outputs.py"
