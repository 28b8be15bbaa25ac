# The synthetic demo cohort, generated only when config cohort is "demo".
if config["cohort"] == "demo":

    checkpoint demo_cohort:
        output:
            f"{config['demo']['out']}/manifest.json",
        params:
            out=config["demo"]["out"],
            patients=config["demo"]["patients"],
            imaging_patients=config["demo"].get("imaging_patients"),
            imaging_centres=IMAGING_CENTRES,
            seed=config["demo"]["seed"],
            centres=CENTRES,
        threads: workflow.cores
        resources:
            mem_mb=2000,
            runtime=30,
        log:
            "logs/demo_cohort.log",
        script:
            "../../scripts/demo/demo_cohort.py"
