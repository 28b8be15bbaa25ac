"""Benchmark: PyRadiomics' command-line batch mode vs spinestudy.radiomics.extract on sagittal lumbar T2.

    .venv/bin/python benchmarks/extraction.py [--patients 4] [--params config/radiomics/mr_default.yaml]

Builds a small demo cohort (spinestudy.demo.cohort) unless --cohort points to one, reads each patient's T2 series,
then runs the same (image, mask, label) cases through `pyradiomics cases.csv -o out.csv -f csv -p params`
and through `extract_patient`, and prints both wall and CPU times (CPU: the side's own processor time, which
other jobs on a shared machine disturb far less than wall time), the speed-ups and the largest relative
feature difference. Both run with one ITK and one BLAS thread, as a workflow job does (the cores go to
parallel jobs); --structures picks the ROIs (default: those the demo run extracts).
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import SimpleITK as sitk
import yaml

from spinestudy import anatomy
from spinestudy.demo import cohort as demo
from spinestudy.radiomics import extract as rx

REPO = Path(__file__).resolve().parents[1]
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1"}


def t2_volume(patient_dir: Path, out: Path) -> Path:
    """The patient's sagittal T2 series (description contains 't2', not 'tirm') written as NIfTI."""
    series: dict[str, list] = {}
    for path in (p for p in sorted(patient_dir.rglob("*")) if p.is_file()):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            continue
        description = str(ds.get("SeriesDescription", "")).lower()
        if "t2" in description and "tirm" not in description:
            series.setdefault(ds.SeriesInstanceUID, []).append((int(ds.InstanceNumber), str(path)))
    files = max(series.values(), key=len)
    sitk.WriteImage(sitk.ReadImage([f for _, f in sorted(files)]), str(out))
    return out


def cases(cohort: Path, patients: int, work: Path, structures: str) -> pd.DataFrame:
    """One row per (patient, label) present in the label map whose structure matches the regular expression
    `structures`: Image, Mask, Label, patient."""
    rows = []
    for mask in sorted(cohort.glob("*/masks/*.nii.gz"))[:patients]:
        patient = mask.name.removesuffix(".nii.gz")
        image = t2_volume(mask.parents[1] / "dicom" / patient, work / f"{patient}_T2.nii.gz")
        labels = np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(mask))))  # a copy: the image is temporary
        rows += [dict(Image=str(image), Mask=str(mask), Label=int(v), patient=patient)
                 for v in labels if re.search(structures, anatomy.label_table().get(int(v), "^$"))]
    return pd.DataFrame(rows)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_pyradiomics(table: pd.DataFrame, params: Path, work: Path) -> tuple[float, float, pd.DataFrame]:
    """Wall and CPU seconds of PyRadiomics' batch CLI on the cases, and its output table."""
    table[["Image", "Mask", "Label"]].to_csv(work / "cases.csv", index=False)
    out = work / "pyradiomics.csv"
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([str(Path(sys.executable).parent / "pyradiomics"), str(work / "cases.csv"), "-o", str(out),
                    "-f", "csv", "-p", str(params), "--verbosity", "1"], check=True,
                   env=os.environ | ONE_THREAD)
    return time.perf_counter() - start, _children_cpu() - cpu, pd.read_csv(out)


def run_spinestudy(table: pd.DataFrame, params: Path, work: Path) -> tuple[float, float, pd.DataFrame]:
    """Wall and CPU seconds of extract_patient on the cases, patient by patient, and its feature table."""
    start, cpu = time.perf_counter(), time.process_time()
    for patient, rows in table.groupby("patient", sort=False):
        rx.extract_patient({"T2": rows.Image.iloc[0]}, rows.Mask.iloc[0], {int(v): str(v) for v in rows.Label}, params,
                           "bench", patient, work / f"{patient}.parquet", work / f"{patient}.diag.parquet")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu  # outputs written; reading them back
    # is the comparison's work
    paths = pd.concat([pd.read_parquet(work / f"{p}.diag.parquet") for p in table.patient.unique()])
    print("extraction paths:", paths.extraction_path.value_counts().to_dict())
    return seconds, cpu, pd.concat([pd.read_parquet(work / f"{p}.parquet") for p in table.patient.unique()])


def name_missing(row: pd.Series, names: list[str]) -> bool:
    return any(name not in row or pd.isna(row[name]) for name in names)


def largest_difference(table: pd.DataFrame, plain: pd.DataFrame, ours: pd.DataFrame) -> tuple[float, str, int]:
    """Largest relative difference over all features of all cases, the feature it occurs in and the number of
    ROIs both sides extracted."""
    names = [c for c in plain.columns if c.startswith(("original_", "wavelet", "log-", "square", "logarithm",
                                                        "exponential", "gradient", "lbp-"))]
    worst, compared = (0.0, ""), 0
    for (_, case), (_, row) in zip(table.iterrows(), plain.iterrows()):
        mine = ours[(ours.patient == case.patient) & (ours.structure == str(case.Label))]
        if mine.empty or name_missing(row, names):  # an ROI either side rejected (e.g. too small)
            continue
        mine, compared = mine.iloc[0], compared + 1
        for name in names:
            a, b = float(row[name]), float(mine[f"T2_{name}"])
            rel = abs(a - b) / max(abs(a), 1e-12)
            worst = max(worst, (rel, f"{case.patient} label {case.Label}: {name}"))
    return *worst, compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=REPO / "config/radiomics/mr_default.yaml")
    parser.add_argument("--patients", type=int, default=4)
    parser.add_argument("--cohort", type=Path, help="an existing demo cohort (default: generate one)")
    parser.add_argument("--structures", default=yaml.safe_load((REPO / "config/config.yaml").read_text())[
        "radiomics"]["structures"], help="regular expression on structure names (default: the demo run's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cohort = args.cohort and args.cohort.resolve()  # the CLI reads paths relative to the cases file
        if cohort is None:
            cohort = work / "demo"
            try:
                demo.generate(cohort, args.patients, ["A", "B"], seed=1)
            except Exception as exc:  # the cohort's images are written before any later step can fail
                print(f"demo.generate stopped after writing images: {exc!r}")
        table = cases(cohort, args.patients, work, args.structures)
        print(f"{len(table)} ROIs ({args.structures}) of {table.patient.nunique()} patients, params {args.params.name}")
        t_plain, cpu_plain, plain = run_pyradiomics(table, args.params, work)
        t_ours, cpu_ours, ours = run_spinestudy(table, args.params, work)
        worst, where, compared = largest_difference(table, plain, ours)
        if not compared:
            sys.exit("no ROI was extracted by both: see PyRadiomics' errors above")
        print(f"                   wall       CPU\n"
              f"pyradiomics CLI : {t_plain:6.1f} s  {cpu_plain:6.1f} s\n"
              f"spinestudy      : {t_ours:6.1f} s  {cpu_ours:6.1f} s\n"
              f"speed-up        : {t_plain / t_ours:6.2f} x  {cpu_plain / cpu_ours:6.2f} x\n"
              f"largest relative difference over {compared} ROIs: {worst:.2e} ({where})")


if __name__ == "__main__":
    main()
