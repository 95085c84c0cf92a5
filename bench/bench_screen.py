"""Benchmark: screening bulk FHIR NDJSON patients against NCT06125652 on one core.

Prints, for a synthetic population made by `trialscreen.synth`, by default with about 40
resources a patient as the issue asks (`--blood-draws 3.8`: the mean number of blood draws in
the general population besides the first; synth's own 6.8 gives about 57 resources, 49 of them
results, as the population benchmark asks for about 50 results a person):
- evaluation time per patient, parsing excluded (records read first, then screened);
- reading time per patient alone (`read_records`, on the smaller population): reading every
  resource at once, and the lazy reading the command uses (one index pass per file; each kind
  of fact decoded when first used, here never, so this is the floor of the lazy reader);
- end-to-end throughput of the `trialscreen screen` command on one core, for each output
  format: `verdict` (one short line per patient) and `json` (every criterion explained); the
  whole process (start, imports, the UCUM table) and, from the two sizes, the marginal rate
  per further patient;
- peak memory of the streamed run at several sizes (flat means streaming works);
- the baseline measured in the same run: the same screening with every resource first
  validated by `fhir.resources.R4B` (on a sample, scaled), and the ratio to it.

    .venv/bin/python bench/bench_screen.py --patients 100000
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson

AS_OF = date(2026, 11, 25)


def generate(persons: int, seed: int, out: Path, blood_draws: float) -> Path:
    import dataclasses

    import numpy as np

    from trialscreen.synth import generate as synth
    from trialscreen.synth.catalogue import catalogue

    cat = catalogue()
    cat = dataclasses.replace(cat, blood_draws=np.array([blood_draws, cat.blood_draws[1]]))
    synth(persons=persons, seed=seed, out=out, as_of=AS_OF, formats=("fhir",), cat=cat)
    return out / "fhir"


def count_resources(fhir_dir: Path) -> int:
    total = 0
    for f in fhir_dir.glob("*.ndjson"):
        with f.open("rb") as handle:
            total += sum(1 for _ in handle)
    return total


def evaluation_only(fhir_dir: Path, limit: int) -> tuple[float, float, int]:
    """Wall and CPU seconds per patient for screening alone, on records already read."""
    screener, records = _screener_and_records(fhir_dir, limit)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    for r in records:
        screener.screen(r, AS_OF)
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    return elapsed / len(records), used / len(records), len(records)


def evaluation_breakdown(fhir_dir: Path, limit: int) -> dict[str, float]:
    """CPU seconds per patient for what a screen can be asked for, on records already read.

    `screen` decides the verdict and eligible_from and stops at the first criterion that fails
    for good; the others show what that leaves out: every criterion decided (no words), and
    the full report with every reason and piece of evidence as the `--format json` line.
    """
    screener, records = _screener_and_records(fhir_dir, limit)
    runs = {
        "verdict (screen)": lambda r: screener.screen(r, AS_OF),
        "every criterion and part decided": lambda r: screener.decisions(r, AS_OF),
        "full report as a JSON line": lambda r: screener.screen(r, AS_OF).to_json_line(),
    }
    out = {}
    for label, run in runs.items():
        gc.collect()
        cpu = time.process_time()
        for r in records:
            run(r)
        out[label] = (time.process_time() - cpu) / len(records)
    return out


def _screener_and_records(fhir_dir: Path, limit: int) -> tuple[Any, list[Any]]:
    from trialscreen.criteria.builtin import builtin_criteria
    from trialscreen.evaluate import Screener
    from trialscreen.fhir import PatientRecord, read_records

    seed = builtin_criteria("NCT06125652")
    assert seed is not None
    screener = Screener(seed)
    records = []
    for item in read_records([fhir_dir]):
        if isinstance(item, PatientRecord):
            records.append(item)
            if len(records) >= limit:
                break
    for r in records[:200]:
        screener.screen(r, AS_OF).to_json_line()  # warm caches (unit factors, value-set memos)
    return screener, records


def reading_only(fhir_dir: Path, lazy: bool = False) -> tuple[float, float, int]:
    """Wall and CPU seconds per patient for reading alone (`read_records` over the directory)."""
    from trialscreen.fhir import PatientRecord, read_records

    start, cpu = time.perf_counter(), time.process_time()
    patients = sum(1 for item in read_records([fhir_dir], lazy=lazy) if isinstance(item, PatientRecord))
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    return elapsed / patients, used / patients, patients


def end_to_end(fhir_dir: Path, fmt: str) -> tuple[float, float, int, float]:
    """Run the command in a fresh process on one core: wall and CPU seconds, patients, peak RSS in MB.

    The times cover the whole process from before the imports; peak memory is the process's
    own high-water mark (VmHWM), not inherited from this one.
    """
    code = (
        "import time\n"
        "t = time.perf_counter(); c = time.process_time()\n"
        "import sys\n"
        "from trialscreen.cli.app import main\n"
        "sys.argv = ['trialscreen', 'screen', '--trial', 'NCT06125652', '--as-of', '2026-11-25',"
        " '--format', sys.argv[2], sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "sys.stderr.write(f'ELAPSED {time.perf_counter() - t} CPU {time.process_time() - c} HWM {hwm}\\n')\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code, str(fhir_dir), fmt],
        capture_output=True, env=env, check=False,
    )
    patients = proc.stdout.count(b"\n")
    tail = proc.stderr.decode().strip().splitlines()[-1]
    parts = tail.split()
    return float(parts[1]), float(parts[3]), patients, int(parts[5]) / 1024


def validated_baseline(fhir_dir: Path, limit: int) -> tuple[float, float]:
    """Seconds per patient with every resource validated by fhir.resources.R4B, and without."""
    from fhir.resources.R4B import get_fhir_model_class

    from trialscreen.criteria.builtin import builtin_criteria
    from trialscreen.evaluate import Screener
    from trialscreen.fhir import PatientRecord

    seed = builtin_criteria("NCT06125652")
    assert seed is not None
    screener = Screener(seed)
    # Group the first `limit` patients' resources (what a validating reader would parse).
    by_patient: dict[str, list[dict]] = {}
    order: list[str] = []
    with (fhir_dir / "Patient.ndjson").open("rb") as handle:
        for line in handle:
            res = orjson.loads(line)
            order.append(res["id"])
            by_patient[res["id"]] = [res]
            if len(order) >= limit:
                break
    wanted = set(order)
    for f in sorted(fhir_dir.glob("*.ndjson")):
        if f.name == "Patient.ndjson":
            continue
        with f.open("rb") as handle:
            for line in handle:
                res = orjson.loads(line)
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                pid = ref.rsplit("/", 1)[-1]
                if pid in wanted:
                    by_patient[pid].append(res)
    groups = [by_patient[p] for p in order]

    start = time.perf_counter()
    for group in groups:
        for res in group:
            get_fhir_model_class(res["resourceType"]).model_validate(res)
        screener.screen(PatientRecord.from_resources(group), AS_OF)
    with_validation = (time.perf_counter() - start) / len(groups)

    start = time.perf_counter()
    for group in groups:
        screener.screen(PatientRecord.from_resources(group), AS_OF)
    without = (time.perf_counter() - start) / len(groups)
    return with_validation, without


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--eval-sample", type=int, default=20_000, help="patients held in memory for evaluation timing")
    parser.add_argument("--baseline-sample", type=int, default=1_000, help="patients validated with fhir.resources")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--blood-draws", type=float, default=3.8, help="mean blood draws in the general population (3.8: about 40 resources a patient)"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse populations generated before in --workdir (same seed)")
    parser.add_argument("--formats", default="verdict,json", help="output formats to run end to end (comma-separated)")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-screen-"))
    sizes = sorted({max(1, args.patients // 10), args.patients})
    dirs: dict[int, Path] = {}
    for n in sizes:
        t = time.perf_counter()
        made = work / f"n{n}-draws{args.blood_draws:g}" / "fhir"
        if args.reuse and (made / "Patient.ndjson").is_file():
            dirs[n] = made
            print(f"reused {n:,} patients ({count_resources(made):,} resources) from {made}")
            continue
        dirs[n] = generate(n, args.seed, made.parent, args.blood_draws)
        print(f"generated {n:,} patients ({count_resources(dirs[n]):,} resources) in {time.perf_counter() - t:.1f} s")
    print(f"resources a patient: {count_resources(dirs[args.patients]) / args.patients:.1f}")

    big = dirs[args.patients]
    per_patient, per_patient_cpu, sampled = evaluation_only(big, args.eval_sample)
    print(
        f"evaluation only: {per_patient * 1e6:.1f} µs per patient wall, {per_patient_cpu * 1e6:.1f} µs CPU "
        f"(mean over {sampled:,}; goal ≤ 50 µs)"
    )
    for label, seconds in evaluation_breakdown(big, min(args.eval_sample, 5_000)).items():
        print(f"  {label}: {seconds * 1e6:.1f} µs CPU per patient")

    small_dir = dirs[sizes[0]]
    for lazy in (False, True):
        read_wall, read_cpu, read_n = reading_only(small_dir, lazy)
        how = "lazily (index only)" if lazy else "every resource at once"
        print(f"reading alone, {how}, {read_n:,} patients: {read_cpu * 1e6:.0f} µs CPU per patient ({read_wall * 1e6:.0f} µs wall)")

    for fmt in args.formats.split(","):
        memory: dict[int, float] = {}
        cpus: dict[int, tuple[float, int]] = {}
        for n in sizes:
            elapsed, cpu, patients, peak = end_to_end(dirs[n], fmt)
            memory[n] = peak
            cpus[n] = (cpu, patients)
            print(
                f"end to end, --format {fmt}, {patients:,} patients: {elapsed:.1f} s wall ({patients / elapsed:,.0f} patients/s), "
                f"{cpu:.1f} s CPU ({patients / cpu:,.0f} patients per CPU second; goal ≥ 5,000), peak RSS {peak:.0f} MB"
            )
        if len(sizes) > 1:
            small, large = sizes
            extra_cpu = cpus[large][0] - cpus[small][0]
            extra = cpus[large][1] - cpus[small][1]
            print(
                f"  --format {fmt}: marginal {extra / extra_cpu:,.0f} patients per CPU second (the {extra:,} patients "
                f"between the two runs); peak memory {large:,} vs {small:,} patients: {memory[large] / memory[small]:.2f}× (flat ≈ 1)"
            )

    with_validation, without = validated_baseline(big, args.baseline_sample)
    print(
        f"baseline (fhir.resources.R4B validation of every resource, {args.baseline_sample:,} patients): "
        f"{with_validation * 1e6:,.0f} µs per patient vs {without * 1e6:,.0f} µs without: "
        f"trialscreen's reader is {with_validation / without:.1f}× faster than validating"
    )
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
