"""The knowledge's codes resolved through a database's own vocabulary tables."""

from __future__ import annotations

from datetime import date

from trialscreen.omop.compiler import SEED, compile_screen
from trialscreen.omop.compiler.testbed import CdmTestBed
from trialscreen.omop.vocabulary import Vocabulary

from .conftest import GIBLEED_53, SYNTHEA_54


def test_prefixes_ranges_and_subcategory_ranges_follow_the_knowledge() -> None:
    bed = CdmTestBed()
    kidney = bed.concept("ICD10CM", "Z94.0")
    lung = bed.concept("ICD10CM", "Z94.2")
    stem_cell = bed.concept("ICD10CM", "Z94.84")
    intestine = bed.concept("ICD10CM", "Z94.82")
    graft_failure = bed.concept("ICD10CM", "T86.12")
    cpt_lung = bed.concept("CPT4", "32852")
    cpt_other = bed.concept("CPT4", "32850")
    ids = Vocabulary(bed.con).valueset("solid_organ_transplant").code_ids
    assert {kidney, lung, intestine, graft_failure, cpt_lung} <= ids
    assert stem_cell not in ids and cpt_other not in ids


def test_exclusions_of_a_value_set_are_honoured() -> None:
    bed = CdmTestBed()
    pneumonia = bed.concept("ICD10CM", "J18.9")
    hiv = bed.concept("ICD10CM", "B20")
    hepatitis_c = bed.concept("ICD10CM", "B18.2")
    salmonella = bed.concept("ICD10CM", "A02.0")
    ids = Vocabulary(bed.con).valueset("infection").code_ids
    assert {pneumonia, salmonella} <= ids
    assert not {hiv, hepatitis_c} & ids


def test_standard_targets_only_when_no_outside_code_shares_them() -> None:
    bed = CdmTestBed()
    relapse = bed.concept("ICD10CM", "C92.02")
    apl = bed.concept("ICD10CM", "C92.40")
    aml_unspecified = bed.concept("ICD10CM", "C92.00")
    own = bed.concept("SNOMED", "1000001", name="AML in relapse")
    shared = bed.concept("SNOMED", "1000002", name="Myeloid leukaemia")
    bed.maps_to(relapse, own)
    bed.maps_to(aml_unspecified, shared)
    bed.maps_to(apl, shared)
    resolved = Vocabulary(bed.con).valueset("aml")
    assert own in resolved.mapped_ids
    assert shared not in resolved.mapped_ids
    assert relapse in resolved.relapse_ids and aml_unspecified not in resolved.relapse_ids | resolved.remission_ids


def test_ingredients_expand_to_products_but_atc_classes_only_when_asked() -> None:
    bed = CdmTestBed()
    tacrolimus = bed.concept("RxNorm", "42316", name="tacrolimus")
    capsule = bed.concept("RxNorm", "198378", name="tacrolimus 1 MG Oral Capsule")
    bed.ancestor(tacrolimus, capsule)
    atc = bed.concept("ATC", "J01MA", name="Fluoroquinolones")
    levofloxacin = bed.concept("RxNorm", "82122", name="levofloxacin")
    bed.ancestor(atc, levofloxacin)
    assert capsule in Vocabulary(bed.con).valueset("immunosuppressant", descendants=True).ids
    assert levofloxacin not in Vocabulary(bed.con).valueset("antimicrobial", descendants=True).ids
    assert levofloxacin in Vocabulary(bed.con, expand_atc=True).valueset("antimicrobial", descendants=True).ids


def test_text_terms_find_concepts_by_name_in_their_domain() -> None:
    bed = CdmTestBed()
    leukostasis = bed.concept("SNOMED", "2000001", name="Pulmonary leukostasis", domain="Condition")
    drug_named = bed.concept("SNOMED", "2000002", name="leukostasis leaflet", domain="Observation")
    resolved = Vocabulary(bed.con).valueset("tumour_lysis_or_leukostasis", text_domains=("Condition",))
    assert leukostasis in resolved.ids and drug_named not in resolved.ids


def test_cvx_codes_match_with_or_without_leading_zeros() -> None:
    bed = CdmTestBed()
    padded = bed.concept("CVX", "03")
    bare = bed.concept("CVX", "94")
    other = bed.concept("CVX", "141")
    ids = Vocabulary(bed.con).valueset("live_vaccine").code_ids
    assert {padded, bare} <= ids and other not in ids


def test_codes_the_vocabulary_lacks_are_listed_not_dropped() -> None:
    bed = CdmTestBed()
    bed.concept("ICD10CM", "C92.00")
    bed.person()
    screen = compile_screen(SEED, bed.con, date(2026, 11, 25))
    missing = set(screen.missing_codes)
    assert ("icd10cm", "C92.3", "aml") in missing
    assert ("icd10cm", "C92.0", "aml") not in missing
    assert ("loinc", "1920-8", "ast") in missing
    assert all(len(entry) == 3 for entry in missing)


def test_real_vocabularies_report_what_they_lack(tmp_path: object) -> None:
    """Synthea27Nj holds SNOMED conditions and no ICD-10; GiBleed (v5.3) two ICD-10-CM codes."""
    import ibis

    for folder, lacks in ((SYNTHEA_54, ("icd10cm", "C92.4", "apl")), (GIBLEED_53, ("cpt", "38241", "autologous_sct"))):
        con = ibis.duckdb.connect()
        for name in ("CONCEPT", "CONCEPT_RELATIONSHIP", "CONCEPT_ANCESTOR"):
            con.read_csv(folder / f"{name}.csv.gz", table_name=name.lower())
        vocab = Vocabulary(con)
        for name in ("apl", "autologous_sct", "aml"):
            vocab.valueset(name)
        assert lacks in vocab.missing
