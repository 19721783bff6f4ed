"""Gold triage level per diagnosis for the Avey vignettes, written BEFORE any scoring (issue 28).

The vignettes (medaks/symptomcheck-bench) carry a diagnosis, not a triage level, so the gold level
is derived from the diagnosis by this fixed table, frozen in its own commit before the triage
engine was run on a single vignette. Levels follow Semigran et al. (BMJ 2015):

* ``emergency``: needs emergency care the same day (ambulance / emergency department): acute
  coronary syndromes, dissection, PE, stroke, meningitis, surgical abdomen, ectopic pregnancy,
  obstetric emergencies, DKA, airway threats, torsion, GI bleeding, tamponade, pneumothorax, ...
* ``self_care``: reasonable to manage at home or with a pharmacist (common cold, tension headache,
  sunburn, mild musculoskeletal strain, ...).
* ``soon``: everything else: needs a clinician within days, not an emergency department today
  (chronic disease, suspected cancer, most infections needing a prescription).

The diagnosis names are used as they appear in the file (two spellings of DKA and ear wax both
listed). Unknown names default to ``soon`` and are reported by the benchmark.

Split: a vignette is *development* when ``sha256(presentation)`` has an even first byte, else
*report*; the engine's red flags and intake were tuned on development only.
"""

from __future__ import annotations

import hashlib

EMERGENCY = frozenset({
    "Abdominal aortic aneurysm", "Abruptio Placenta", "Acute Angle Closure Glaucoma", "Acute Appendicitis",
    "Acute Cholangitis", "Acute Cholecystitis", "Acute Liver Failure", "Acute Pancreatitis", "Acute Renal Failure",
    "Aortic Dissection", "Brain Abscess", "Cardiac Tamponade", "Cerebral Stroke", "Cholera",
    "Diabetic Ketoacidosis", "Diabetic ketoacidosis", "Ectopic Pregnancy", "Epiglottitis", "Foreign Body Aspiration",
    "Infantile Meningitis", "Infective Endocarditis", "Liver Abscess", "Malaria", "Meningitis",
    "Myocardial Infarction", "Myocarditis", "Peritonitis", "Pre-eclampsia", "Preterm Labor",
    "Primary Spontaneous Pneumothorax", "Pulmonary Embolism", "Rhabdomyolysis", "Ruptured Abdominal Aortic Aneurysm",
    "Ruptured Ectopic Pregnancy", "Secondary Spontaneous Pneumothorax", "Shoulder Dislocation", "Shoulder Fracture",
    "Spontaneous Abortion", "Testicular Torsion", "Unstable Angina", "Upper Gastrointestinal Bleeding",
})

SELF_CARE = frozenset({
    "Achilles Tendonitis", "Acute Bacterial Gastroenteritis", "Acute Bronchitis", "Acute Laryngitis",
    "Allergic Conjunctivitis", "Allergic Rhinitis", "Anal Fissure", "Atopic Dermatitis", "Blepharitis",
    "Breast Engorgement", "Chalazion", "Common Cold", "Costochondritis", "Diaper Dermatitis", "Dry Eye Disease",
    "Ear Wax Blockage", "Earwax Blockage", "Food Poisoning", "Infectious Mononucleosis", "Intercostal Myalgia",
    "Lactose Intolerance", "Lateral Epicondylitis", "Mechanical Back Pain", "Medial Epicondylitis",
    "Migraine Headache", "Non Allergic Rhinitis", "Patellofemoral Pain Syndrome", "Primary Dysmenorrhea", "Rubella",
    "Scabies", "Shoulder Bursitis", "Stye", "Sunburn", "Tension Headache", "Tinea Pedis", "Tonsillopharyngitis",
    "Urticaria", "Varicella", "Viral Conjunctivitis", "Vulvovaginal Candidiasis",
})

LEVELS = ("emergency", "soon", "self_care")


def gold_level(diagnosis: str) -> str:
    """The gold triage level of a diagnosis (see the module docstring)."""
    if diagnosis in EMERGENCY:
        return "emergency"
    if diagnosis in SELF_CARE:
        return "self_care"
    return "soon"


def split_of(presentation: str) -> str:
    """``dev`` or ``report``, fixed by a hash of the vignette's presentation text."""
    return "dev" if hashlib.sha256(presentation.encode()).digest()[0] % 2 == 0 else "report"
