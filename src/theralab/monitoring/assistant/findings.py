# ruff: noqa: E501  (one regular expression per line keeps the finding table auditable)
"""Clinical findings read from a patient's words, with negation, for symptom triage.

Why patterns and not a model: every finding that can send someone to an emergency department must
be auditable line by line, and must fail safe. Each finding is a named regular expression; a match
preceded in the same clause by a negation ("no", "denies", "without", ...) is dropped, because the
red-flag *questions* are then asked explicitly and a patient's explicit "yes" always counts.
"""

from __future__ import annotations

import re

# finding id -> pattern (case-insensitive). Keep ids stable: intake answers use them.
PATTERNS: dict[str, str] = {
    # cardio-respiratory
    "chest_pain": r"chest\s*(pain|discomfort|tightness|pressure|heaviness)|precordial\s+pain|\bangina\b|pain\s+in\s+(the\s+|my\s+)?chest|tight\w*\s+(in\s+)?(the\s+|my\s+)?chest",
    "pain_to_back": r"radiat\w*\s+(\w+\s+){0,5}back|through\s+to\s+(the|my)\s+back",
    "pain_radiating": r"radiat\w*\s+(\w+\s+){0,6}(arm|jaw|neck|back|shoulder)|spread\w*\s+to\s+(my\s+|the\s+)?(left\s+)?(arm|jaw|neck|back)",
    "sweating": r"\bsweat\w*|diaphore\w*|clammy",
    "tearing_pain": r"\btearing\b|\bripping\b",
    "exertional": r"on\s+exertion|after\s+walking|when\s+(i\s+)?(walk|climb)|with\s+exercise|exercise[-\s]induced",
    "pain_at_rest": r"(even\s+)?at\s+rest",
    "pleuritic": r"worse\w*\s+(\w+\s+){0,3}(breath|inspiration|cough)|pleuritic|increases\s+with\s+respiration|on\s+deep\s+inspiration",
    "breathless": r"short(ness)?\s+of\s+breath|breathless\w*|dyspn\w*|difficulty\s+(in\s+)?breathing|trouble\s+breathing|can'?t\s+breathe|hard\s+to\s+breathe|out\s+of\s+breath",
    "breathing_severe": r"(short(ness)?\s+of\s+breath|breathless\w*|dyspn\w*|difficulty\s+(in\s+)?breathing)\s+(\w+\s+){0,3}at\s+rest|dyspneic\s+at\s+rest|can'?t\s+(speak|talk)\s+(in\s+)?full\s+sentences|gasping|\bchok\w*|labou?red|high[-\s]pitched\s+(sound|noise|breathing)|\bstridor\b|blue\s+lips|cyanos\w*|\bdrool\w*|can'?t\s+breathe|struggling\s+to\s+breathe|(sudden|acute)[-\s]+(onset\s+)?(of\s+)?(shortness\s+of\s+breath|dyspn\w*|breathless\w*)",
    "palpitations": r"palpitat\w*|heart\s+(racing|pounding)|racing\s+heart",
    "syncope": r"faint\w*|syncop\w*|pass(ed)?\s+out|los[st]\s+(of\s+)?consciousness|collaps\w*|black(ed)?\s+out",
    "unresponsive": r"unresponsive|unconscious|not\s+waking|can'?t\s+be\s+woken",
    "leg_swelling_one": r"swelling\s+(\w+\s+){0,3}(left|right|one)\s+(calf|leg)|(calf|leg)\s+(is\s+)?swollen|swelling\s+in\s+(his|her|my)\s+(left\s+|right\s+)?calf",
    "recent_surgery_or_immobile": r"after\s+(a\s+|having\s+a\s+|his\s+|her\s+)?(\w+\s+){0,3}(surgery|repair|resection|replacement|operation)|post[-\s]?op\w*|bed\s*rest|long[-\s]haul\s+flight|immobili\w*|hospitali[sz]ed\s+after",
    # neuro
    "face_droop": r"face\s+(is\s+)?droop\w*|facial\s+droop\w*|droop\w*\s+(of\s+)?(the\s+)?(face|mouth)|mouth\s+droop\w*",
    "one_sided_weakness": r"weakness\s+(\w+\s+){0,6}(arm|leg|one\s+side|side\s+of\s+the\s+body)|(arm|leg)\s+(is\s+)?(weak|numb)|numb\w*\s+(\w+\s+){0,4}(one\s+side|left\s+side|right\s+side|arm|face)|can'?t\s+(lift|move)\s+(my\s+|his\s+|her\s+)?(arm|leg)|hemipar\w*",
    "speech_trouble": r"slurred\s+speech|slurring|speech\s+(is\s+)?(slurred|difficult)|difficulty\s+(speaking|finding\s+words)|can'?t\s+(speak|get\s+words\s+out)|talking\s+strangely|aphasi\w*",
    "confusion": r"confus\w*|disorient\w*|(very\s+)?drowsy|hard\s+to\s+wake|altered\s+(mental|conscious)|agitated\s+and\s+confused",
    "seizure": r"seizure|convuls\w*|\bfits?\b",
    "thunderclap": r"worst\s+headache|thunderclap|sudden\s+(and\s+)?severe\s+headache|sudden(ly)?[-\s]+(onset\s+)?(of\s+)?(a\s+)?(severe\s+)?headache",
    "neck_stiffness": r"(neck|nuchal)\s+(stiff\w*|rigid\w*)|stiff\s+neck",
    "photophobia": r"photophobia|light\s+(hurts|bothers)|sensitiv\w*\s+to\s+light|(opens|open)\s+(his|her|my)\s+eyes\s+to\s+light",
    "nonblanching_rash": r"non[-\s]?blanching|purpur\w*|petechi\w*|rash\s+(that\s+)?(does\s+not|doesn'?t)\s+fade",
    "vision_loss_sudden": r"sudden\w*\s+(\w+\s+){0,3}(loss\s+of\s+vision|vision\s+loss|blind\w*|blurr\w*\s+vision)|(lost|loss\s+of)\s+(the\s+)?vision",
    "eye_pain_severe": r"(severe|sudden)\s+(\w+\s+){0,3}eye\s+pain|halos?\s+around\s+lights|sudden\w*\s+(\w+\s+){0,5}(pain|redness)\s+(\w+\s+){0,4}eye",
    # allergy
    "face_swelling": r"swell\w*\s+(\w+\s+){0,3}(lips?|tongue|throat|face|mouth)|(lips?|tongue|throat|face)\s+(is\s+|are\s+)?swell\w*|angioedema|throat\s+(is\s+)?(closing|tight)",
    "allergen_exposure": r"(after|since)\s+(eating|a\s+(bee|wasp)|being\s+stung|taking)\b|\bsting\b|stung|peanut|anaphyla\w*",
    "hives": r"\bhives\b|urticari\w*|wheals",
    # infection / sepsis
    "fever": r"fever\w*|febrile|high\s+temperature|pyrexi\w*|\brigors?\b|chills",
    "mottled_skin": r"mottled|cold\s+(hands|extremities)|blotchy\s+skin",
    "fast_breathing": r"breathing\s+(very\s+)?fast|tachypn\w*|rapid\s+breathing",
    "travel_tropics": r"(return\w*|came\s+back|travel\w*)\s+(\w+\s+){0,4}(africa|asia|india|nigeria|tropic\w*|kenya|ghana|sudan|brazil|thailand|malaria|america|abroad)|mosquito\w*|\btravel(l)?ing\s+(in|to|through)\b|returned\s+from\s+(abroad|a\s+trip)",
    "lethargic": r"letharg\w*|less\s+active|floppy|listless|refus\w*\s+(to\s+)?(feed|eat|drink)\w*|not\s+feeding",
    "child_word": r"\b(baby|infant|toddler|newborn|child)\b",
    # abdomen / GI / GU
    "abdominal_pain": r"abdom\w*\s+pain|pain\s+(\w+\s+){0,4}abdom\w*|stomach\s+(pain|ache)|belly\s+pain|(RUQ|RLQ|LLQ|LUQ|epigastr\w*)\s+(\w+\s+){0,2}pain|right\s+lower\s+quadrant|flank\s+pain",
    "rlq_pain": r"right\s+lower\s+quadrant|\bRLQ\b|right\s+iliac\s+fossa|lower\s+right\s+(side\s+of\s+the\s+)?(abdomen|belly)",
    "rigid_abdomen": r"rigid\s+abdom\w*|board[-\s]like|guarding|rebound",
    "vomiting": r"vomit\w*|throwing\s+up|being\s+sick",
    "vomiting_blood": r"vomit\w*\s+(\w+\s+){0,2}blood|haematemesis|hematemesis|coffee[-\s]ground",
    "black_stool": r"black\s+(tarry\s+)?stools?|tarry\s+stools?|mel(a)?ena",
    "rectal_bleeding_heavy": r"(heavy|large\s+amounts?\s+of|lots\s+of)\s+(rectal\s+)?bleeding\s+from\s+(the\s+)?(rectum|back\s+passage)",
    "watery_diarrhea_profuse": r"(profuse|rice[-\s]water|severe)\s+(\w+\s+){0,2}diarrh\w*|sudden[-\s]onset\s+watery\s+diarrh\w*",
    "no_urine": r"anuri\w*|no\s+urine|not\s+(passed|passing)\s+urine|haven'?t\s+(urinated|peed)|decreased\s+urine\s+output|oliguri\w*",
    "thirst_polyuria": r"(excessive(ly)?\s+)?thirst\w*|urinating\s+a\s+lot|frequent\s+urination|polyuri\w*|polydipsi\w*",
    "diabetic": r"diabet\w*|\bT1DM\b|\bT2DM\b|insulin",
    "jaundice": r"jaundic\w*|yellow\w*\s+(skin|eyes)|(skin|eyes)\s+(are\s+|is\s+|look\s+|turned\s+|have\s+turned\s+)yellow|icter\w*",
    "testicular_pain": r"testic\w*\s+pain|pain\s+in\s+(his|my|the)\s+(testicle|testis|scrotum)|scrot\w*\s+pain|testicular\s+(swelling|pain)",
    "pregnant": r"\bpregnan\w*|weeks?'?\s+(of\s+)?gestation|gestation\w*|positive\s+(home\s+)?(urinary\s+)?pregnancy\s+test|missed\s+(my\s+|her\s+)?period",
    "vaginal_bleeding": r"vaginal\s+bleed\w*|bleeding\s+from\s+(the\s+)?vagina|spotting",
    "contractions": r"contraction\w*",
    "reduced_fetal_movement": r"(baby'?s?|fetal|foetal)\s+movements?\s+(are\s+|is\s+)?(decreased|reduced|less)",
    "pregnancy_headache_vision": r"(headache|blurr\w*\s+vision|flashing\s+lights|visual\s+disturbance)",
    # severity and other
    "severe_pain": r"\bsevere\w*\s+(\w+\s+){0,3}pain|excruciating|worst\s+pain|unbearable|(8|9|10)\s*(out\s+of|/)\s*10",
    "injury": r"\b(fell|fall|fallen|injur\w*|accident|trauma|hit\s+by|tackl\w*)\b",
    "cannot_move": r"(prevent\w*\s+(\w+\s+){0,2}(from\s+)?moving|unable\s+to\s+(move|bear\s+weight|walk)|can'?t\s+(move|bear\s+weight|walk)|cannot\s+(move|bear\s+weight|walk))",
    "dark_urine": r"(dark|red|brown|cola[-\s]colou?red|tea[-\s]colou?red)\s+urine|discolou?r\w*\s+(of\s+)?(his\s+|her\s+|my\s+|the\s+)?urine",
    "muscle_pain": r"muscle\s+(pain|ache|weakness|tightness)|myalgi\w*|(tightness|pain)\s+(\w+\s+){0,4}muscles",
    "headache": r"headache\w*",
    "neck_pain": r"neck\s+pain",
    "trauma_deformity": r"dislocat\w*|deformit\w*|(fell|fall|fallen|injur\w*)\s+(\w+\s+){0,6}(can'?t|cannot|unable\s+to)\s+(move|bear\s+weight|lift)|(bone|arm|leg)\s+(is\s+)?(broken|fractured)|open\s+fracture",
    "head_injury": r"head\s+injur\w*|hit\s+(my|his|her)\s+head",
    "weight_loss": r"(weight|lost\s+\d+\s*(kg|pounds|lbs))\s*(loss)?|los(t|ing)\s+weight",
    "blood_in_urine": r"blood\s+in\s+(the\s+|my\s+)?urine|haematuri\w*|hematuri\w*",
    "lump": r"\blump\b|\bmass\b|swollen\s+(gland|lymph)",
    "night_sweats": r"night\s+sweats?",
    "immunosuppressed": r"chemotherap\w*|immunosuppress\w*|\bHIV\b|transplant",
}
COMPILED = {k: re.compile(v, re.IGNORECASE) for k, v in PATTERNS.items()}
_NEG = re.compile(r"\b(no|not|denies|denied|deny|without|never|nor|neither|absence\s+of|negative\s+for|free\s+of)\b",
                  re.IGNORECASE)
_CLAUSE = re.compile(r"[.;!?\n]|,\s*(but|however|although)\b|\bbut\b", re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    """True when a negation word sits in the same clause, at most 6 words before ``start``."""
    clause_start = 0
    for m in _CLAUSE.finditer(text, 0, start):
        clause_start = m.end()
    words = text[clause_start:start].split()[-6:]
    return bool(_NEG.search(" ".join(words)))


def extract_findings(text: str) -> set[str]:
    """Finding ids mentioned (not negated) in ``text``."""
    found: set[str] = set()
    for key, pattern in COMPILED.items():
        for m in pattern.finditer(text or ""):
            if not _negated(text, m.start()):
                found.add(key)
                break
    return found


_NUM = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|several|couple\s+of)"
_WORDNUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "few": 3, "several": 4, "couple of": 2}
_UNIT_H = {"minute": 1 / 60, "hour": 1, "hr": 1, "day": 24, "week": 168, "month": 720, "year": 8760}
_DUR = re.compile(_NUM + r"[-\s]+(minute|hour|hr|day|week|month|year)s?", re.IGNORECASE)


def duration_hours(text: str) -> float | None:
    """The longest symptom duration stated in ``text`` in hours ("3 days", "two weeks", "yesterday")."""
    values = []
    for m in _DUR.finditer(text or ""):
        raw = m.group(1).lower()
        n = float(raw) if raw[0].isdigit() else _WORDNUM.get(" ".join(raw.split()), 1)
        values.append(n * _UNIT_H[m.group(2).lower()])
    low = (text or "").lower()
    if "yesterday" in low:
        values.append(24.0)
    if re.search(r"\btoday\b|this\s+morning|tonight", low):
        values.append(6.0)
    return max(values) if values else None


def severity_score(text: str) -> int | None:
    """A 0-10 severity from "7 out of 10", "7/10", or the words severe / moderate / mild."""
    m = re.search(r"\b(10|\d)\s*(out\s+of|/)\s*10\b", text or "", re.IGNORECASE)
    if m:
        return int(m.group(1))
    low = (text or "").lower()
    if re.search(r"\b(severe|excruciating|unbearable|worst)\b", low):
        return 8
    if re.search(r"\bmoderate\b", low):
        return 5
    if re.search(r"\b(mild|slight)\b", low):
        return 3
    return None
