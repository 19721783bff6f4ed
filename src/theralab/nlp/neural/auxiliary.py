"""Auxiliary training tasks of the criteria tagger (multi-task learning); not part of the saved model.

Why: the tagger's score grows about two points per doubling of the labelled trials, and Chia has no
more of them. Two sources of extra supervision are at hand without new annotation: Chia's own
annotations that the flat BIO output cannot show (nested entities, ``Scope``, ``Reference_point``:
:func:`theralab.nlp.chia.second_layer`), and the Disease and Chemical mentions of an annotated abstract
corpus (BC5CDR, public domain, in ``../shared``). Each gets its own linear layer and CRF on the shared
BiLSTM states; their losses are added (weights ``hp["aux_layer2"]``, ``hp["aux_pubtator"]``) so the
encoder learns from them, and only the main tagger is saved. Measured: +0.7 points of overlap F1
on the dev trials (three seeds), +0.0 to +0.7 on the five held-out folds (pooled 0.761 -> 0.765),
never negative in ten paired comparisons (``docs/benchmarks/trials.md``, fifth round).
"""

from __future__ import annotations

import random
from typing import Any

from theralab.errors import InputError
from theralab.nlp.chia import ChiaDoc, second_layer
from theralab.nlp.neural.ner import crf_masks
from theralab.nlp.neural.tagger import Vocab, batch_tensors, crf_nll
from theralab.nlp.pubtator import PubTatorDoc, bio_sentences

#: Seed of the auxiliary corpus's batch order (independent of the network seed).
AUX_SEED = 13


def _aux_head_class() -> Any:
    import torch
    from torch import nn

    class AuxHead(nn.Module):
        """A linear layer and CRF potentials of one auxiliary task, on the shared BiLSTM states."""

        def __init__(self, d_in: int, n_labels: int) -> None:
            super().__init__()
            self.out = nn.Linear(d_in, n_labels)
            self.trans = nn.Parameter(torch.zeros(n_labels, n_labels))
            self.start = nn.Parameter(torch.zeros(n_labels))
            self.end = nn.Parameter(torch.zeros(n_labels))

        def nll(self, h: Any, tags: Any, mask: Any, task: dict[str, Any]) -> Any:
            mt, ms = (m.to(h.device) for m in task["masks"])
            return crf_nll(self.out(h), tags, mask, self.trans + mt, self.start + ms, self.end)

    return AuxHead


def aux_head(d_in: int, n_labels: int) -> Any:
    """A new auxiliary head (``torch.nn.Module``) reading ``d_in``-wide encoder states."""
    return _aux_head_class()(d_in, n_labels)


def aux_tasks(
    docs: list[ChiaDoc],
    aux_docs: list[PubTatorDoc],
    vocab: Vocab,
    gaz: Any,
    batches: list[tuple[dict[str, Any], Any]],
    hp: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The auxiliary tasks ``hp`` asks for: their label sets, CRF masks and tag tensors or batches.

    ``layer2`` tags the main batches' own lines with :func:`theralab.nlp.chia.second_layer`;
    ``pubtator`` tags the sentences of annotated abstracts (Disease, Chemical) in batches of their own.
    Auxiliary heads shape the shared encoder during training and are not saved with the model.

    Args:
        docs: the training documents (their lines are the main ``batches``).
        aux_docs: annotated abstracts for ``pubtator``.
        vocab: the main tagger's vocabulary (abstract words it lacks read as ``<unk>``).
        gaz: the full training-entity dictionary, for the abstracts' dictionary feature.
        batches: the main (inputs, tags) batches; ``layer2`` adds its tags to each input dict.
        hp: the settings; a task runs when its weight is above 0.

    Raises:
        InputError: when ``aux_pubtator`` is asked for without annotated abstracts.
    """
    import torch

    tasks: dict[str, dict[str, Any]] = {}
    if hp["aux_layer2"] > 0:
        by_key = {}
        for d in docs:
            for toks, labels in second_layer(d):
                if toks:
                    by_key[(d.doc_id, toks[0].start)] = labels
        labels = ["O", *sorted({x for v in by_key.values() for x in v} - {"O"})]
        ix = {lab: i for i, lab in enumerate(labels)}
        for batch, tags in batches:  # the second layer rides in the main batch: same lines, same order
            t2 = torch.zeros_like(tags)
            for r, key in enumerate(batch["keys"]):
                t2[r, : len(by_key[key])] = torch.tensor([ix[x] for x in by_key[key]])
            batch["layer2"] = t2
        tasks["layer2"] = {"labels": labels, "masks": crf_masks(labels), "weight": hp["aux_layer2"]}
    if hp["aux_pubtator"] > 0:
        if not aux_docs:
            raise InputError(
                "aux_pubtator > 0 needs annotated abstracts",
                hint="pass abstracts (the command line reads them from --abstracts), or set aux_pubtator to 0",
            )
        sents = [(toks, lab) for d in aux_docs for toks, lab in bio_sentences(d) if toks]
        labels = ["O", *sorted({x for _t, lab in sents for x in lab} - {"O"})]
        ix = {lab: i for i, lab in enumerate(labels)}
        encoded = []
        for toks, lab in sents:
            g = gaz.tag(toks) if gaz is not None else None
            encoded.append((vocab.encode(toks, g), [ix[x] for x in lab]))
        encoded.sort(key=lambda e: len(e[1]))
        aux_batches = []
        for k in range(0, len(encoded), hp["batch"]):
            chunk = encoded[k : k + hp["batch"]]
            batch = batch_tensors([e for e, _l in chunk])
            tags = torch.zeros(batch["mask"].shape, dtype=torch.long)
            for r, (_e, lab) in enumerate(chunk):
                tags[r, : len(lab)] = torch.tensor(lab)
            aux_batches.append((batch, tags))
        random.Random(AUX_SEED).shuffle(aux_batches)
        tasks["pubtator"] = {"labels": labels, "masks": crf_masks(labels), "batches": aux_batches,
                             "weight": hp["aux_pubtator"]}
    return tasks
