"""Write chunks of the synthetic population as OMOP CDM v5.4 Parquet files.

One ``ParquetWriter`` per table, one row group per chunk, so a population of any size
streams to disk. What an ETL would not load stays out: refuted or erroneous diagnoses and
allergies, results that are not final/amended/corrected, procedures not done, orders
entered in error, vaccines not given. Free text, categories, reason codes, consents and
questionnaire answers have no OMOP home and are only in the FHIR output. A drug order's
status has none either: orders that run past the as-of date are active or on hold
(``stop_reason`` 'on-hold'), stopped or completed ones ended before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trialscreen.synth import population as P
from trialscreen.synth.concepts import (
    RACE_CODES,
    VOCABULARY_NAMES,
    product_code,
    unit_vocabulary_code,
)
from trialscreen.synth.context import Context, Ids
from trialscreen.synth.omop_schema import schema, table

EHR = 32817
EVENT_TABLES = (
    "person",
    "observation_period",
    "condition_occurrence",
    "measurement",
    "observation",
    "procedure_occurrence",
    "drug_exposure",
    "death",
)
OK_RESULT = np.array([s in ("final", "amended", "corrected") for s in P.OBS_STATUS])
OK_VERIFICATION = np.array([v not in ("refuted", "entered-in-error") for v in P.VERIFICATION])
OK_PROCEDURE = np.array([s not in ("not-done", "entered-in-error") for s in P.PROC_STATUS])
OK_ALLERGY = np.array([v not in ("refuted", "entered-in-error") for v in P.ALLERGY_VERIFICATION])


def _null_if(values: np.ndarray, null: np.ndarray, kind: pa.DataType) -> pa.Array:
    return pa.array(values, type=kind, mask=null)


def _ints(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(np.int64), type=pa.int32(), mask=null)


def _strs(values: Sequence[str | None] | np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string(), from_pandas=True)


class OmopWriter:
    """Streams chunks into DIR/omop/<table>.parquet and the vocabulary at the end."""

    def __init__(self, out: Path, ctx: Context) -> None:
        self.dir = out / "omop"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ctx = ctx
        self.writers = {
            name: pq.ParquetWriter(self.dir / f"{name}.parquet", schema(name), compression="zstd")
            for name in EVENT_TABLES
        }
        self.used: set[int] = set()
        self._lookups()

    # -- concept lookups per catalogue entry ------------------------------------------

    def _lookups(self) -> None:
        cs, cat = self.ctx.concepts, self.ctx.cat
        conds = self.ctx.conditions
        self.cond_src = np.array([cs.id("ICD10CM" if e.system == "icd10cm" else "ICD10", e.code) for e in conds])
        self.cond_std = np.array([cs.id("SNOMED", f"TS-{e.code}") for e in conds])
        self.cond_code = np.array([e.code for e in conds], dtype=object)
        self.status_ids = np.array([cs.id("Condition Status", s) if s else 0 for s in P.CLINICAL])
        self.analyte_code_ids = [np.array([cs.id("LOINC", c) for c in a.codes]) for a in cat.analytes]
        self.analyte_unit_ids = [
            np.array([cs.id("UCUM", unit_vocabulary_code(u.unit)) for u in a.units] or [0]) for a in cat.analytes
        ]
        self.o2_code_ids = np.array([cs.id("LOINC", o.code) for o in cat.oxygen])
        self.o2_unit_ids = np.array([cs.id("UCUM", o.unit) for o in cat.oxygen])
        self.text_concepts = np.array([self._text_concept(s) for s in self.ctx.strings] + [0], dtype=np.int64)
        self.proc_ids = np.array([cs.id("CPT4" if p.system == "cpt" else "SNOMED", p.code) for p in cat.procedures])
        self.med_product = np.array(
            [0 if m.coding == "text" else cs.id("RxNorm", product_code(m.name)) for m in cat.medicines]
        )
        self.vaccine_ids = np.array([cs.id("CVX", v.cvx) for v in cat.vaccines])
        self.allergen_ids = np.array([cs.id("SNOMED", a.code) for a in cat.allergens])
        self.positive = cs.id("SNOMED", "10828004")
        self.negative = cs.id("SNOMED", "260385009")
        self.field_id = cs.id("CDM", "measurement.measurement_id")

    def _text_concept(self, text: str) -> int:
        system, sep, code = text.partition("|")
        if not sep:
            return 0
        return self.ctx.concepts.id("SNOMED" if system == "snomed" else "LOINC", code)

    def _use(self, *arrays: np.ndarray) -> None:
        for a in arrays:
            self.used.update(int(x) for x in np.unique(a))

    # -- tables -----------------------------------------------------------------------

    def write(self, chunk: P.Chunk, ids: Ids) -> None:
        tables = {
            "person": self._person(chunk.persons),
            "condition_occurrence": self._conditions(chunk, ids),
            "measurement": self._measurements(chunk, ids),
            "observation": self._observations(chunk, ids),
            "procedure_occurrence": self._procedures(chunk, ids),
            "drug_exposure": self._drugs(chunk, ids),
        }
        tables["observation_period"] = self._periods(chunk.persons, tables)
        for name, t in tables.items():
            if t.num_rows:
                self.writers[name].write_table(t)

    def _person(self, ps: P.Persons) -> pa.Table:
        n = len(ps.person_id)
        cs = self.ctx.concepts
        gender = np.select([ps.gender == 0, ps.gender == 1], [8507, 8532], 0)
        race_ids = np.array([cs.id("Race", RACE_CODES[r]) if r in RACE_CODES else 0 for r in P.RACES])
        race = race_ids[ps.race]
        eth = np.where(ps.hispanic, cs.id("Ethnicity", "Hispanic"), cs.id("Ethnicity", "Not Hispanic"))
        self._use(gender, race, eth)
        years = ps.birth.astype("datetime64[Y]").astype(np.int64) + 1970
        months = ps.birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
        days = (ps.birth - ps.birth.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
        return table(
            "person",
            {
                "person_id": _ints(ps.person_id),
                "gender_concept_id": _ints(gender),
                "year_of_birth": _ints(years),
                "month_of_birth": _ints(months),
                "day_of_birth": _ints(days),
                "birth_datetime": pa.array(ps.birth.astype("datetime64[us]")),
                "race_concept_id": _ints(race),
                "ethnicity_concept_id": _ints(eth),
                "person_source_value": _strs([str(x) for x in ps.person_id]),
                "gender_source_value": _strs(list(np.array(P.GENDERS)[ps.gender])),
                "race_source_value": _strs(list(np.array(P.RACES)[ps.race])),
                "ethnicity_source_value": _strs(["hispanic" if h else "nonhispanic" for h in ps.hispanic]),
            },
            n,
        )

    def _conditions(self, chunk: P.Chunk, ids: Ids) -> pa.Table:
        c = chunk.conditions
        keep = OK_VERIFICATION[c.verification]
        e = c.entry[keep]
        start_off = np.where(c.has_onset, c.onset, c.recorded)[keep]
        start = self.ctx.days(start_off)
        end = self.ctx.days(c.abatement[keep])
        no_end = ~c.has_abatement[keep]
        status = self.status_ids[c.clinical[keep]]
        std, src = self.cond_std[e], self.cond_src[e]
        self._use(std, src, status)
        statuses = np.array(P.CLINICAL, dtype=object)[c.clinical[keep]]
        return table(
            "condition_occurrence",
            {
                "condition_occurrence_id": _ints(ids.condition[keep]),
                "person_id": _ints(chunk.persons.person_id[c.person[keep]]),
                "condition_concept_id": _ints(std),
                "condition_start_date": pa.array(start),
                "condition_start_datetime": pa.array(start.astype("datetime64[us]")),
                "condition_end_date": _null_if(end, no_end, pa.date32()),
                "condition_end_datetime": _null_if(end.astype("datetime64[us]"), no_end, pa.timestamp("us")),
                "condition_type_concept_id": _ints(np.full(len(e), EHR)),
                "condition_status_concept_id": _ints(status, status == 0),
                "condition_source_value": _strs(list(self.cond_code[e])),
                "condition_source_concept_id": _ints(src),
                "condition_status_source_value": _strs([s or None for s in statuses]),
            },
            len(e),
        )

    def _result_rows(self, chunk: P.Chunk, domain: str) -> np.ndarray:
        r = chunk.results
        in_domain = np.array([a.domain == domain for a in self.ctx.cat.analytes])[r.analyte]
        return np.nonzero(in_domain & OK_RESULT[r.status])[0]

    def _result_values(self, chunk: P.Chunk, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Value columns shared by measurement and observation rows."""
        r = chunk.results
        kind = r.kind[rows]
        number = np.where(kind == P.V_INTEGER, r.integer[rows].astype(np.float64), r.value[rows])
        text_id = np.where(r.text[rows] >= 0, r.text[rows], len(self.ctx.strings))
        value_concept = np.select(
            [r.polarity[rows] == P.P_POS, r.polarity[rows] == P.P_NEG, kind == P.V_CODE],
            [self.positive, self.negative, self.text_concepts[text_id]],
            0,
        )
        # what the source said: the code of a coded value, the words of a written one
        said = [t.partition("|")[2] if "|" in t else t for t in self.ctx.strings]
        strings = np.array([*said, None, "POS", "NEG"], dtype=object)
        n = len(self.ctx.strings)
        interp = kind == P.V_INTERP
        text_id = np.where(interp, np.where(r.polarity[rows] == P.P_POS, n + 1, n + 2), text_id)
        return {"number": number, "concept": value_concept, "source": strings[text_id]}

    def _measurements(self, chunk: P.Chunk, ids: Ids) -> pa.Table:
        r = chunk.results
        rows = self._result_rows(chunk, "Measurement")
        a = r.analyte[rows]
        concept = np.zeros(len(rows), dtype=np.int64)
        unit_id = np.zeros(len(rows), dtype=np.int64)
        unit_src = np.empty(len(rows), dtype=object)
        for j, an in enumerate(self.ctx.cat.analytes):
            s = a == j
            if not s.any():
                continue
            concept[s] = self.analyte_code_ids[j][r.code[rows[s]]]
            has_unit = r.unit[rows[s]] >= 0
            u = np.where(has_unit, r.unit[rows[s]], 0)
            unit_id[s] = np.where(has_unit, self.analyte_unit_ids[j][u], 0)
            names = np.array([x.unit for x in an.units] + [""], dtype=object)
            unit_src[s] = [n if h else None for n, h in zip(names[u], has_unit, strict=True)]
        vals = self._result_values(chunk, rows)
        when = self.ctx.moments(r.day[rows], r.second[rows])
        codes = np.array([c for an in self.ctx.cat.analytes for c in an.codes], dtype=object)
        offsets = np.cumsum([0] + [len(an.codes) for an in self.ctx.cat.analytes])
        source_code = codes[offsets[a] + r.code[rows]]
        # oxygen components: their own rows, pointing at the SpO2 row
        crow = rows[r.o2_kind[rows] >= 0]
        ck = r.o2_kind[crow]
        c_when = self.ctx.moments(r.day[crow], r.second[crow])
        c_units = np.array([o.unit for o in self.ctx.cat.oxygen], dtype=object)[ck]
        c_codes = np.array([o.code for o in self.ctx.cat.oxygen], dtype=object)[ck]
        self._use(
            concept, unit_id, vals["concept"], self.o2_code_ids[ck], self.o2_unit_ids[ck], np.array([self.field_id])
        )
        n, m = len(rows), len(crow)
        number = np.concatenate([vals["number"], r.o2_value[crow]])
        return table(
            "measurement",
            {
                "measurement_id": _ints(np.concatenate([ids.result[rows], ids.component[crow]])),
                "person_id": _ints(chunk.persons.person_id[np.concatenate([r.person[rows], r.person[crow]])]),
                "measurement_concept_id": _ints(np.concatenate([concept, self.o2_code_ids[ck]])),
                "measurement_date": pa.array(np.concatenate([when, c_when]).astype("datetime64[D]")),
                "measurement_datetime": pa.array(np.concatenate([when, c_when]).astype("datetime64[us]")),
                "measurement_type_concept_id": _ints(np.full(n + m, EHR)),
                "value_as_number": _null_if(number, np.isnan(number), pa.float64()),
                "value_as_concept_id": _ints(
                    np.concatenate([vals["concept"], np.zeros(m)]),
                    np.concatenate([vals["concept"] == 0, np.ones(m, dtype=bool)]),
                ),
                "unit_concept_id": _ints(np.concatenate([unit_id, self.o2_unit_ids[ck]])),
                "range_high": _null_if(
                    np.concatenate([r.ref[rows], np.full(m, np.nan)]),
                    np.isnan(np.concatenate([r.ref[rows], np.full(m, np.nan)])),
                    pa.float64(),
                ),
                "measurement_source_value": _strs(np.concatenate([source_code, c_codes])),
                "measurement_source_concept_id": _ints(np.concatenate([concept, self.o2_code_ids[ck]])),
                "unit_source_value": _strs(np.concatenate([unit_src, c_units])),
                "value_source_value": _strs(np.concatenate([vals["source"], np.full(m, None)])),
                "measurement_event_id": _ints(
                    np.concatenate([np.zeros(n), ids.result[crow]]),
                    np.concatenate([np.ones(n, dtype=bool), np.zeros(m, dtype=bool)]),
                ),
                "meas_event_field_concept_id": _ints(
                    np.concatenate([np.zeros(n), np.full(m, self.field_id)]),
                    np.concatenate([np.ones(n, dtype=bool), np.zeros(m, dtype=bool)]),
                ),
            },
            n + m,
        )

    def _observations(self, chunk: P.Chunk, ids: Ids) -> pa.Table:
        r = chunk.results
        rows = self._result_rows(chunk, "Observation")
        concept = np.array(
            [self.analyte_code_ids[a][c] for a, c in zip(r.analyte[rows], r.code[rows], strict=True)], dtype=np.int64
        )
        vals = self._result_values(chunk, rows)
        when = self.ctx.moments(r.day[rows], r.second[rows])
        al = chunk.allergies
        keep = OK_ALLERGY[al.verification]
        a_concept = self.allergen_ids[al.entry[keep]]
        a_when = self.ctx.days(al.day[keep]).astype("datetime64[s]")
        self._use(concept, a_concept)
        n, m = len(rows), int(keep.sum())
        kinds = r.kind[rows]
        as_string = [s if k == P.V_STRING else None for s, k in zip(vals["source"], kinds, strict=True)]
        number = np.concatenate([np.where(kinds == P.V_INTEGER, vals["number"], np.nan), np.full(m, np.nan)])
        severity = np.array(P.SEVERITY, dtype=object)[al.severity[keep]]
        criticality = np.array(P.CRITICALITY, dtype=object)[al.criticality[keep]]
        clinical = np.array(P.ALLERGY_CLINICAL, dtype=object)[al.clinical[keep]]
        codes = [self.ctx.cat.analytes[a].codes[c] for a, c in zip(r.analyte[rows], r.code[rows], strict=True)]
        return table(
            "observation",
            {
                "observation_id": _ints(np.concatenate([ids.result[rows], ids.allergy[keep]])),
                "person_id": _ints(chunk.persons.person_id[np.concatenate([r.person[rows], al.person[keep]])]),
                "observation_concept_id": _ints(np.concatenate([concept, a_concept])),
                "observation_date": pa.array(np.concatenate([when, a_when]).astype("datetime64[D]")),
                "observation_datetime": pa.array(np.concatenate([when, a_when]).astype("datetime64[us]")),
                "observation_type_concept_id": _ints(np.full(n + m, EHR)),
                "value_as_number": _null_if(number, np.isnan(number), pa.float64()),
                "value_as_string": _strs(as_string + [s or None for s in severity]),
                "observation_source_value": _strs(codes + [self.ctx.cat.allergens[e].code for e in al.entry[keep]]),
                "observation_source_concept_id": _ints(np.concatenate([concept, a_concept])),
                "qualifier_source_value": _strs([None] * n + [s or None for s in criticality]),
                "value_source_value": _strs([s or None for s in vals["source"]] + list(clinical)),
            },
            n + m,
        )

    def _procedures(self, chunk: P.Chunk, ids: Ids) -> pa.Table:
        p = chunk.procedures
        keep = OK_PROCEDURE[p.status]
        concept = self.proc_ids[p.entry[keep]]
        day = self.ctx.days(p.day[keep])
        self._use(concept)
        m = int(keep.sum())
        return table(
            "procedure_occurrence",
            {
                "procedure_occurrence_id": _ints(ids.procedure[keep]),
                "person_id": _ints(chunk.persons.person_id[p.person[keep]]),
                "procedure_concept_id": _ints(concept),
                "procedure_date": pa.array(day),
                "procedure_datetime": pa.array(day.astype("datetime64[us]")),
                "procedure_type_concept_id": _ints(np.full(m, EHR)),
                "procedure_source_value": _strs([self.ctx.cat.procedures[e].code for e in p.entry[keep]]),
                "procedure_source_concept_id": _ints(concept),
            },
            m,
        )

    def _drugs(self, chunk: P.Chunk, ids: Ids) -> pa.Table:
        cat, cs = self.ctx.cat, self.ctx.concepts
        d = chunk.medicines
        keep = d.status != P.MED_STATUS.index("entered-in-error")
        rows = np.nonzero(keep)[0]
        product = self.med_product[d.entry[rows]]
        src_value: list[str] = []
        src_id = np.zeros(len(rows), dtype=np.int64)
        route_id = np.zeros(len(rows), dtype=np.int64)
        route_src: list[str | None] = []
        for i, row in enumerate(rows):
            med = cat.medicines[d.entry[row]]
            if med.coding in ("rxnorm", "both") and med.rxnorm:
                src_value.append(med.rxnorm)
                src_id[i] = cs.id("RxNorm", med.rxnorm)
            elif med.coding == "atc" and med.atc:
                src_value.append(med.atc)
                src_id[i] = cs.id("ATC", med.atc)
            else:
                src_value.append(med.name[:50])
            route = med.routes[d.route[row]]
            if route == "none":
                route_src.append(None)
            elif route.startswith("text:"):
                route_src.append(route[5:])
            else:
                route_src.append(route)
                route_id[i] = cs.id("SNOMED", route)
        start = self.ctx.days(d.start[rows])
        end = self.ctx.days(d.end[rows])
        status = np.array(P.MED_STATUS, dtype=object)[d.status[rows]]
        v = chunk.vaccinations
        vkeep = v.status == P.IMM_STATUS.index("completed")
        v_concept = self.vaccine_ids[v.entry[vkeep]]
        v_day = self.ctx.days(v.day[vkeep])
        self._use(product, src_id, route_id, v_concept)
        n, m = len(rows), int(vkeep.sum())
        starts = np.concatenate([start, v_day])
        ends = np.concatenate([end, v_day])
        return table(
            "drug_exposure",
            {
                "drug_exposure_id": _ints(np.concatenate([ids.medicine[rows], ids.vaccination[vkeep]])),
                "person_id": _ints(chunk.persons.person_id[np.concatenate([d.person[rows], v.person[vkeep]])]),
                "drug_concept_id": _ints(np.concatenate([product, v_concept])),
                "drug_exposure_start_date": pa.array(starts),
                "drug_exposure_start_datetime": pa.array(starts.astype("datetime64[us]")),
                "drug_exposure_end_date": pa.array(ends),
                "drug_exposure_end_datetime": pa.array(ends.astype("datetime64[us]")),
                "verbatim_end_date": _null_if(
                    ends, np.concatenate([np.zeros(n, dtype=bool), np.ones(m, dtype=bool)]), pa.date32()
                ),
                "drug_type_concept_id": _ints(np.full(n + m, EHR)),
                "stop_reason": _strs([s if s in ("stopped", "on-hold") else None for s in status] + [None] * m),
                "route_concept_id": _ints(
                    np.concatenate([route_id, np.zeros(m)]), np.concatenate([route_id == 0, np.ones(m, dtype=bool)])
                ),
                "drug_source_value": _strs(src_value + [cat.vaccines[e].cvx for e in v.entry[vkeep]]),
                "drug_source_concept_id": _ints(
                    np.concatenate([src_id, v_concept]), np.concatenate([src_id == 0, np.zeros(m, dtype=bool)])
                ),
                "route_source_value": _strs(route_src + [None] * m),
            },
            n + m,
        )

    def _periods(self, ps: P.Persons, tables: dict[str, pa.Table]) -> pa.Table:
        n = len(ps.person_id)
        first_id = int(ps.person_id[0]) if n else 0
        as_of = self.ctx.as_of_day
        history = np.timedelta64(self.ctx.cat.history_days, "D")
        start = np.maximum(ps.birth, as_of - history)
        end = np.full(n, as_of)
        for name, col in (
            ("condition_occurrence", "condition_start_date"),
            ("measurement", "measurement_date"),
            ("observation", "observation_date"),
            ("procedure_occurrence", "procedure_date"),
            ("drug_exposure", "drug_exposure_start_date"),
        ):
            t = tables[name]
            if not t.num_rows:
                continue
            idx = t.column("person_id").to_numpy().astype(np.int64) - first_id
            days = t.column(col).to_numpy().astype("datetime64[D]")
            np.minimum.at(start, idx, days)
            np.maximum.at(end, idx, days)
        return table(
            "observation_period",
            {
                "observation_period_id": _ints(ps.person_id),
                "person_id": _ints(ps.person_id),
                "observation_period_start_date": pa.array(start),
                "observation_period_end_date": pa.array(end),
                "period_type_concept_id": _ints(np.full(n, EHR)),
            },
            n,
        )

    # -- closing: vocabulary ----------------------------------------------------------

    def close(self, persons: int, seed: int) -> None:
        for w in self.writers.values():
            w.close()
        cs = self.ctx.concepts
        self.used.add(EHR)
        keep = sorted(cs.closure(self.used) & set(cs.concepts))
        concepts = [cs.concepts[i] for i in keep]
        start, end = date(1970, 1, 1), date(2099, 12, 31)
        n = len(concepts)
        pq.write_table(
            table(
                "concept",
                {
                    "concept_id": [c.concept_id for c in concepts],
                    "concept_name": [c.name for c in concepts],
                    "domain_id": [c.domain for c in concepts],
                    "vocabulary_id": [c.vocabulary for c in concepts],
                    "concept_class_id": [c.concept_class for c in concepts],
                    "standard_concept": [c.standard for c in concepts],
                    "concept_code": [c.code for c in concepts],
                    "valid_start_date": [start] * n,
                    "valid_end_date": [end] * n,
                },
                n,
            ),
            self.dir / "concept.parquet",
        )
        kept = set(keep)
        rel = sorted((a, b) for a, b in cs.maps_to if a in kept and b in kept)
        rel_rows = [(a, b, "Maps to") for a, b in rel] + [(b, a, "Mapped from") for a, b in rel]
        pq.write_table(
            table(
                "concept_relationship",
                {
                    "concept_id_1": [r[0] for r in rel_rows],
                    "concept_id_2": [r[1] for r in rel_rows],
                    "relationship_id": [r[2] for r in rel_rows],
                    "valid_start_date": [start] * len(rel_rows),
                    "valid_end_date": [end] * len(rel_rows),
                },
                len(rel_rows),
            ),
            self.dir / "concept_relationship.parquet",
        )
        anc = sorted((a, d, lv) for (a, d), lv in cs.ancestors.items() if a in kept and d in kept)
        pq.write_table(
            table(
                "concept_ancestor",
                {
                    "ancestor_concept_id": [x[0] for x in anc],
                    "descendant_concept_id": [x[1] for x in anc],
                    "min_levels_of_separation": [x[2] for x in anc],
                    "max_levels_of_separation": [x[2] for x in anc],
                },
                len(anc),
            ),
            self.dir / "concept_ancestor.parquet",
        )
        vocabs = sorted({c.vocabulary for c in concepts})
        pq.write_table(
            table(
                "vocabulary",
                {
                    "vocabulary_id": vocabs,
                    "vocabulary_name": [VOCABULARY_NAMES.get(v, v) for v in vocabs],
                    "vocabulary_reference": ["trialscreen synth"] * len(vocabs),
                    "vocabulary_version": ["trialscreen-synth-1"] * len(vocabs),
                    "vocabulary_concept_id": [0] * len(vocabs),
                },
                len(vocabs),
            ),
            self.dir / "vocabulary.parquet",
        )
        pq.write_table(
            table(
                "cdm_source",
                {
                    "cdm_source_name": ["trialscreen synthetic population"],
                    "cdm_source_abbreviation": ["trialscreen-synth"],
                    "cdm_holder": ["trialscreen"],
                    "source_description": [
                        f"{persons} synthetic persons, seed {seed}, as of {self.ctx.as_of.isoformat()}"
                    ],
                    "source_release_date": [self.ctx.as_of],
                    "cdm_release_date": [self.ctx.as_of],
                    "cdm_version": ["v5.4"],
                    "cdm_version_concept_id": [756265],
                    "vocabulary_version": ["trialscreen-synth-1"],
                },
                1,
            ),
            self.dir / "cdm_source.parquet",
        )
