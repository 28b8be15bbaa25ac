# The synthetic demo cohort, generated only when config cohort is "demo".
if config["cohort"] == "demo":

    checkpoint demo_cohort:
        output:
            f"{config['demo']['out']}/manifest.json",
        log:
            "logs/demo_cohort.log",
        conda:
            "../envs/spinestudy.yaml"
        # A function: read when the job is planned, so commands without --cores (--report, --unlock) need none.
        threads: lambda wildcards: workflow.cores
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            patients=config["demo"]["patients"],
            imaging_patients=config["demo"].get("imaging_patients"),
            imaging_centres=IMAGING_CENTRES,
            seed=config["demo"]["seed"],
            centres=CENTRES,
        script:
            "../../scripts/demo/demo_cohort.py"
