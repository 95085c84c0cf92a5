"""Benchmark: screening a whole OMOP population for NCT06125652 (DuckDB, Spark, in-memory).

Generates N synthetic persons with `trialscreen.synth` (OMOP Parquet; the first chunk of
persons also as FHIR NDJSON) and measures, each in a fresh process:

- the full population screen on DuckDB, as `trialscreen population` runs it (open the
  Parquet tables, compile, execute, funnel, write persons.parquet/funnel.json/chart):
  wall time and peak memory (goals: <= 15 s, <= 4 GB at 1,000,000 persons);
- one full scan of the measurement table on DuckDB (every column the screen reads), the
  floor for any engine (goal: the screen within 3x of it);
- the in-memory FHIR evaluator over a sample of the same persons, read + screened, scaled
  to N (goal: DuckDB at least 50x faster);
- Spark local[2] on the same Parquet: its time, and whether persons.parquet equals DuckDB's.

    .venv/bin/python bench/bench_population.py --persons 1000000
    .venv/bin/python bench/bench_population.py --persons 20000 --sample 1000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

AS_OF = date(2026, 11, 25)
TRIAL = "NCT06125652"


# --- data --------------------------------------------------------------------------------


def ensure_data(work: Path, persons: int, seed: int, fhir_persons: int) -> dict[str, Any]:
    """Generate (or reuse) the OMOP tables for `persons` and the FHIR of the first chunk."""
    from trialscreen.synth import generate

    stamp = work / "params.json"
    params = {"persons": persons, "seed": seed, "as_of": AS_OF.isoformat(), "fhir": fhir_persons}
    if stamp.exists() and json.loads(stamp.read_text()).get("params") == params:
        return dict(json.loads(stamp.read_text()), reused=True)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = time.perf_counter()
    summary = generate(persons=persons, seed=seed, out=work / "big", as_of=AS_OF, formats=("omop",))
    omop_seconds = time.perf_counter() - start
    start = time.perf_counter()
    # Persons are drawn chunk by chunk from (seed, chunk number): the first chunk of a run of
    # `fhir_persons` (one whole chunk, or all persons) holds the same persons as the big run.
    generate(persons=fhir_persons, seed=seed, out=work / "sample", as_of=AS_OF, formats=("fhir",))
    fhir_seconds = time.perf_counter() - start
    info = {
        "params": params,
        "omop_seconds": omop_seconds,
        "fhir_seconds": fhir_seconds,
        "counts": summary.counts,
    }
    stamp.write_text(json.dumps(info, indent=2))
    return dict(info, reused=False)


# --- children (each measured in a fresh process) ------------------------------------------


def _phase_clock() -> Any:
    """A run_population progress that records how long each phase took."""
    from trialscreen.omop.run import Progress

    class Clock(Progress):
        def __init__(self) -> None:
            self.phases: dict[str, float] = {}
            self.phases_cpu: dict[str, float] = {}
            self._name: str | None = None
            self._start = time.perf_counter()
            self._cpu = time.process_time()

        def phase(self, name: str, total: int | None = None) -> None:
            self.stop()
            self._name, self._start, self._cpu = name, time.perf_counter(), time.process_time()

        def stop(self) -> None:
            if self._name is not None:
                self.phases[self._name] = round(time.perf_counter() - self._start, 3)
                self.phases_cpu[self._name] = round(time.process_time() - self._cpu, 3)
            self._name = None

    return Clock()


def child_duckdb(omop: Path, out: Path) -> dict[str, Any]:
    from trialscreen.omop.run import PopulationRequest, load_criteria, run_population

    shutil.rmtree(out, ignore_errors=True)
    criteria = load_criteria(TRIAL, None)
    clock = _phase_clock()
    start, cpu = time.perf_counter(), time.process_time()
    result = run_population(PopulationRequest(criteria=criteria, source=str(omop), out=out, as_of=AS_OF), clock)
    seconds = time.perf_counter() - start
    clock.stop()
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "phases": clock.phases,
        "phases_cpu": clock.phases_cpu,
        "persons": result.persons.num_rows,
        "verdicts": result.funnel.verdicts,
    }


def child_spark(omop: Path, out: Path, master: str) -> dict[str, Any]:
    from trialscreen.omop.engines import start_spark
    from trialscreen.omop.run import PopulationRequest, load_criteria, run_population

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    spark = start_spark(master)
    spark.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter() - start
    criteria = load_criteria(TRIAL, None)
    try:
        request = PopulationRequest(
            criteria=criteria, source=str(omop), out=out, as_of=AS_OF, engine="spark", spark_session=spark
        )
        result = run_population(request)
    finally:
        spark.stop()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "session_start_seconds": started, "persons": result.persons.num_rows}


SCANNED = (
    "measurement_id", "person_id", "measurement_concept_id", "measurement_source_concept_id",
    "measurement_date", "measurement_datetime", "value_as_number", "operator_concept_id",
    "value_as_concept_id", "value_source_value", "unit_concept_id", "unit_source_value",
    "range_high", "measurement_event_id",
)
"""Every column of measurement the screen reads (`Cdm.results`)."""


def child_scan(omop: Path) -> dict[str, Any]:
    """One pass over every column of measurement the screen reads (`SCANNED`): each column is
    decoded and folded into an aggregate, strings through their length."""
    from trialscreen.omop.engines import open_engine
    from trialscreen.omop.sources import parse_source

    with open_engine(parse_source(str(omop))) as session:
        m = session.con.table("measurement")
        folds: dict[str, Any] = {"rows": m.count()}
        for name in SCANNED:
            column = m[name]
            if column.type().is_string():
                folds[name] = column.length().sum()
            elif column.type().is_numeric():
                folds[name] = column.sum()
            else:
                folds[name] = column.max()
        query = m.aggregate(**folds)
        start, cpu = time.perf_counter(), time.process_time()
        row = query.to_pyarrow().to_pylist()[0]
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": row["rows"]}


def child_fhir(fhir: Path, sample: int) -> dict[str, Any]:
    """Read and screen the first `sample` persons' FHIR records with the in-memory evaluator."""
    from trialscreen.criteria.builtin import builtin_criteria
    from trialscreen.evaluate import Screener
    from trialscreen.fhir import PatientRecord, read_records

    criteria = builtin_criteria(TRIAL)
    assert criteria is not None
    screener = Screener(criteria)
    verdicts: dict[str, str] = {}
    statuses: dict[str, dict[str, str]] = {}
    start = time.perf_counter()
    records = []
    for item in read_records([fhir]):
        if isinstance(item, PatientRecord):
            records.append(item)
            if len(records) >= sample:
                break
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for record in records:
        report = screener.screen(record, AS_OF)
        verdicts[record.patient_id] = str(report.verdict)
        statuses[record.patient_id] = dict(report.statuses())
    screen_seconds = time.perf_counter() - start
    return {
        "persons": len(records),
        "read_seconds": read_seconds,
        "screen_seconds": screen_seconds,
        "verdicts": verdicts,
        "statuses": statuses,
    }


def run_child(args: list[str]) -> tuple[dict[str, Any], float, float]:
    """Run this script as a child; its JSON result, wall seconds, peak RSS (GB) of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest child so far: only meaningful when it grew
    peak = max(peak_kb, before) / 1024 / 1024
    return result, wall, peak


# --- the report ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--sample", type=int, default=2_000, help="persons screened in memory")
    parser.add_argument("--work", type=Path, default=None, help="data directory (reused)")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--child", choices=("duckdb", "spark", "scan", "fhir"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        if args.child == "duckdb":
            result = child_duckdb(args.data, args.out)
        elif args.child == "spark":
            result = child_spark(args.data, args.out, args.spark_master)
        elif args.child == "scan":
            result = child_scan(args.data)
        else:
            result = child_fhir(args.data, args.sample)
        print(json.dumps(result, default=str))
        return

    from trialscreen.synth.generate import CHUNK

    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / f"trialscreen-bench-population-{args.persons}"
    fhir_persons = min(args.persons, CHUNK)
    sample = min(args.sample, fhir_persons)
    data = ensure_data(work, args.persons, args.seed, fhir_persons)
    omop, fhir = work / "big" / "omop", work / "sample" / "fhir"
    print(f"persons {args.persons:,} (seed {args.seed}); as of {AS_OF}; {os.cpu_count()} CPUs")
    counts = data["counts"]
    print(
        f"  measurements {counts['results']:,} ({counts['results'] / args.persons:.1f} a person); "
        f"generated in {data['omop_seconds']:.1f} s"
        + (" (reused)" if data["reused"] else "")
    )

    duck, duck_wall, duck_peak = run_child(["--child", "duckdb", "--data", str(omop), "--out", str(work / "out-duckdb")])
    print(f"DuckDB screen + funnel + outputs: {duck['seconds']:.2f} s in-process, CPU {duck['cpu_seconds']:.2f} s "
          f"({duck_wall:.2f} s with interpreter start); peak RSS {duck_peak:.2f} GB; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  phases (s): {duck['phases']}")
    print(f"  phases (CPU s): {duck['phases_cpu']}")
    print(f"  verdicts {duck['verdicts']}")

    scan, _, _ = run_child(["--child", "scan", "--data", str(omop)])
    print(f"one full scan of measurement ({scan['rows']:,} rows): {scan['seconds']:.3f} s, CPU {scan['cpu_seconds']:.3f} s")
    print(
        f"  screen / scan = {duck['seconds'] / scan['seconds']:.1f}x (goal <= 3x); "
        f"by CPU {duck['cpu_seconds'] / scan['cpu_seconds']:.1f}x"
    )

    mem, _, _ = run_child(["--child", "fhir", "--data", str(fhir), "--sample", str(sample)])
    per_person = (mem["read_seconds"] + mem["screen_seconds"]) / mem["persons"]
    scaled = per_person * args.persons
    print(
        f"in-memory evaluator on {mem['persons']:,} persons' FHIR: read {mem['read_seconds']:.2f} s "
        f"+ screen {mem['screen_seconds']:.2f} s = {per_person * 1000:.2f} ms a person; "
        f"scaled to {args.persons:,}: {scaled:.0f} s"
    )
    print(f"  in-memory / DuckDB = {scaled / duck['seconds']:.1f}x (goal >= 50x)")
    _agreement(work / "out-duckdb" / "persons.parquet", mem["verdicts"], mem["statuses"])

    if not args.no_spark:
        spark, spark_wall, _ = run_child(
            ["--child", "spark", "--data", str(omop), "--out", str(work / "out-spark"),
             "--spark-master", args.spark_master]
        )
        same = _same_persons(work / "out-duckdb" / "persons.parquet", work / "out-spark" / "persons.parquet")
        print(
            f"Spark {args.spark_master}: {spark['seconds']:.1f} s in-process (session start "
            f"{spark['session_start_seconds']:.1f} s); results equal DuckDB's: {same}"
        )


def _same_persons(a: Path, b: Path) -> bool:
    import pyarrow.parquet as pq

    return bool(pq.read_table(a).equals(pq.read_table(b)))


def _agreement(duck_persons: Path, verdicts: dict[str, str], statuses: dict[str, dict[str, str]]) -> None:
    """How many sampled persons got the same verdict in memory (FHIR) and on DuckDB (OMOP)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(duck_persons)
    sampled = pa.array([int(p) for p in verdicts], pa.int64())
    table = table.filter(pc.is_in(table["person_id"], value_set=sampled))
    rows = {str(r["person_id"]): r for r in table.to_pylist()}
    differ = [pid for pid, v in verdicts.items() if rows.get(pid, {}).get("verdict") != v]
    print(f"  same verdict in memory and on DuckDB: {len(verdicts) - len(differ):,} of {len(verdicts):,} sampled persons")
    for pid in differ[:5]:
        row = rows.get(pid, {})
        diffs = {cid: (st, row.get(cid)) for cid, st in statuses[pid].items() if row.get(cid) != st}
        print(f"    person {pid}: in memory {verdicts[pid]}, DuckDB {row.get('verdict')}; (memory, DuckDB): {diffs}")


if __name__ == "__main__":
    main()
