"""Names of the study variables and labels of their codes in English and German, and the normal form that
compares them: lower case, umlauts spelled out, words mapped to one canonical word (prae -> before)."""

import re

# word (after lower case and umlaut spelling) -> canonical word(s); "" drops the word
WORDS = {
    **dict.fromkeys("pre prae praeop preop praeoperativ baseline bl before vor vorher t0 v0 0 initial".split(),
                    "before"),
    **dict.fromkeys("post postop after nach nachher followup follow fu t1 v1 1 month months".split(), "after"),
    **dict.fromkeys("back ruecken kreuz lws lumbar lumbal".split(), "back"),
    **dict.fromkeys("leg legs bein beine radicular radikulaer ischias".split(), "leg"),
    **dict.fromkeys("pain schmerz schmerzen nrs nprs vas".split(), "pain"),
    **dict.fromkeys("age alter".split(), "age"),
    **dict.fromkeys("sex gender geschlecht".split(), "sex"),
    **dict.fromkeys("smoking smoker smokes smoke raucher rauchen raucherin nikotin tabak tobacco".split(), "smoking"),
    **dict.fromkeys("syndrome syndrom leitsyndrom diagnosis diagnose hauptdiagnose".split(), "syndrome"),
    **dict.fromkeys("date datum".split(), "date"),
    **dict.fromkeys("procedure op operation intervention eingriff surgery infiltration".split(), "procedure"),
    **dict.fromkeys("opdatum operationsdatum eingriffsdatum".split(), "procedure date"),
    **dict.fromkeys("id identifier pseudonym subject patient patienten pat proband probanden record nr nummer "
                    "number no pid sid studyid subjectid patientid recordid".split(), "id"),
    **dict.fromkeys("level segment etage hoehe bandscheibenfach".split(), "level"),
    **dict.fromkeys("hoehenminderung hoehenverlust".split(), "height reduction"),
    **dict.fromkeys("osteophyte osteophytes osteophyten".split(), "osteophytes"),
    **dict.fromkeys("upper cranial kranial oben cephalad".split(), "upper"),
    **dict.fromkeys("lower caudal kaudal unten".split(), "lower"),
    **dict.fromkeys("endplate endplates endplatte endplatten ep".split(), "endplate"),
    **dict.fromkeys("oswestry odi".split(), "odi"),
    **dict.fromkeys("bmi koerpermasseindex".split(), "bmi"),
    **dict.fromkeys("disc disk bandscheibe".split(), "disc"),
    **dict.fromkeys("of at the in der die das des am bei score grade wert value code status years year jahre "
                    "jahren kg m2 leading".split(), ""),
}
# mapping key -> names a centre may give it (normalised before comparing)
NAMES = {
    "patient_id": ["id", "study id", "patient id", "record id", "subject", "pseudonym", "probanden id", "patienten nr"],
    "age": ["age", "age at procedure", "age at surgery", "alter", "alter bei op"],
    "sex": ["sex", "gender", "geschlecht"],
    "bmi": ["bmi", "body mass index", "koerpermasseindex"],
    "smoking": ["smoking", "smoker", "current smoker", "raucher", "rauchen", "nikotin"],
    "syndrome": ["syndrome", "leading syndrome", "diagnosis", "leitsyndrom", "hauptdiagnose"],
    "nprs_back_before": ["back pain before", "nprs back before", "rueckenschmerz vor"],
    "nprs_leg_before": ["leg pain before", "nprs leg before", "beinschmerz vor"],
    "nprs_back_after": ["back pain after", "nprs back after", "rueckenschmerz nach"],
    "nprs_leg_after": ["leg pain after", "nprs leg after", "beinschmerz nach"],
    "odi_before": ["odi before", "oswestry disability index before"],
    "dn4_before": ["dn4 before"],
    "procedure_date": ["procedure date", "date of procedure", "op datum", "intervention date", "surgery date"],
    "level": ["level", "segment", "disc level", "hoehe"],
    "pfirrmann": ["pfirrmann", "pfirrmann grade"],
    "jarosz_height": ["disc height", "jarosz disc height", "disc height reduction", "height reduction",
                      "hoehenminderung"],
    "osteophytes": ["osteophytes", "jarosz osteophytes", "osteophyten"],
    "modic_disc": ["modic", "modic disc", "modic type"],
    "disc_narrowing": ["disc narrowing", "narrowing", "bandscheibenverschmaelerung"],
    "disc_bulging": ["disc bulging", "bulging", "protrusion", "vorwoelbung"],
    "disc_herniation": ["disc herniation", "herniation", "bandscheibenvorfall", "prolaps"],
    "spondylolisthesis": ["spondylolisthesis", "listhesis", "wirbelgleiten"],
    **{f"endplates.{side}.modic": [f"modic {side}", f"modic {side} endplate", f"modic {side} ep"]
       for side in ("upper", "lower")},
    **{f"endplates.{side}.tep": [f"endplate {side}", f"tep {side}", f"endplate defect {side}",
                                 f"rajasekaran {side}", f"endplate {side} grade"] for side in ("upper", "lower")},
    **{f"endplates.{side}.endplate_change": [f"endplate defect {side}", f"endplate change {side}",
                                             f"endplate lesion {side}"] for side in ("upper", "lower")},
}
# canonical value -> labels a centre may write for it (normalised before comparing)
LABELS = {
    "F": ["f", "female", "w", "weiblich", "frau", "woman", "women", "fem"],
    "M": ["m", "male", "maennlich", "mann", "man", "men", "masc"],
    True: ["yes", "ja", "j", "y", "true", "wahr", "smoker", "raucher", "raucherin", "current smoker",
           "aktueller raucher", "present", "vorhanden", "positive", "positiv"],
    False: ["no", "nein", "n", "false", "falsch", "non smoker", "nonsmoker", "nichtraucher", "nichtraucherin",
            "never smoker", "never", "nie", "absent", "nicht vorhanden", "negative", "negativ"],
    "facet joint pain": ["facet", "facet joint", "facet joint pain", "facet syndrome", "fjp", "facettensyndrom",
                         "facettengelenksyndrom", "facettengelenk"],
    "lumbar disc herniation": ["herniation", "disc herniation", "lumbar disc herniation", "ldh",
                               "bandscheibenvorfall", "bsv", "prolaps", "diskushernie"],
    "degenerative stenosis": ["stenosis", "degenerative stenosis", "spinal stenosis", "ds", "spinalkanalstenose",
                              "stenose", "lumbar stenosis"],
    "degenerative deformity": ["deformity", "degenerative deformity", "dd", "deformitaet", "skoliose",
                               "scoliosis"],
}
# names and labels of columns that identify a person: never proposed for a study variable
IDENTIFYING = re.compile(
    r"(?:^|\b)(?:(?:first|last|sur|given|family|vor|nach|geburts)?\s?names?|vorname|nachname|geburtsname|"
    r"birth\s?date|date of birth|dob|geburtsdatum|geb\s?datum|geboren|birthday|address|adresse|anschrift|"
    r"strasse|street|plz|zip|postcode|wohnort|city|phone|telefon|tel|mobile|handy|e?mail|"
    r"insurance|versicherung|versichertennummer|ssn|social security|mrn|kis|fallnummer|case number|"
    r"initials|initialen|comment|comments|kommentar|bemerkung|bemerkungen|notes?|notiz|freitext|free text)(?:\b|$)")
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "²": "2"})


def words(text: str) -> list[str]:
    """Lower-case words of a name: umlauts spelled out, camelCase and letter-digit runs kept as one word."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text)).translate(UMLAUTS).lower()
    return re.findall(r"[a-z]+[0-9]*|[0-9]+", text)


def normal(text: str) -> str:
    """A name in canonical words, sorted and unique, for comparison (NRS Rücken prä -> 'back before pain')."""
    canonical = " ".join(WORDS.get(w, w) for w in words(text)).split()
    return " ".join(sorted(set(canonical)))


def label(text) -> str:
    """A code or its label as compared with LABELS: lower-case words joined by single spaces."""
    return " ".join(words(text))
