"""The pipeline: tag (here with a gazetteer built from training mentions: the tests' own floor), relate,
write JSONL and BioC JSON whose offsets read back exactly."""

from __future__ import annotations

import json
import re

import pytest

from theralab.errors import ModelError
from theralab.literature import pipeline
from theralab.literature.documents import Mention
from theralab.literature.readers import read_bioc_json, read_path, read_text


def _gazetteer(test_data):
    docs, _ = read_path(test_data / "literature" / "cdr_train_mini.PubTator.txt")
    names = {m.text.lower(): (m.type, m.identifier) for d in docs for m in d.mentions if m.identifier}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b", re.I)

    def tag(batch):
        for doc in batch:
            for m in pattern.finditer(doc.text):
                etype, ident = names[m.group(0).lower()]
                doc.mentions.append(Mention(m.start(), m.end(), m.group(0), etype, ident, 0.9, False, "gazetteer"))
        return batch

    return tag


def test_text_is_tagged_related_and_written(test_data, monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "tagger", lambda: _gazetteer(test_data))
    docs, errors = read_text("Lidocaine and the heart\n\nA 67-year-old man developed cardiac asystole after a "
                             "bolus of lidocaine. Lidocaine-induced cardiac asystole is rare.", "case1")
    done, failed = pipeline.process(docs)
    assert failed == [] and errors == []
    doc = done[0]
    assert {m.text.lower() for m in doc.mentions} >= {"lidocaine", "cardiac asystole"}
    cid = [r for r in doc.relations if r.type == "CID"]
    assert cid and cid[0].subject == "MESH:D008012" and cid[0].object == "MESH:D006323"
    line = json.loads(next(iter(pipeline.to_jsonl(done))))
    assert line["relations"][0]["sentence"] == doc.text[slice(*line["relations"][0]["evidence"])]
    back, errs = read_bioc_json(json.dumps(pipeline.to_bioc(done)), "roundtrip.json")
    assert errs == [] and back[0].text == doc.text
    assert [(m.start, m.end, m.type) for m in back[0].mentions] == [(m.start, m.end, m.type) for m in doc.mentions]


def test_no_tagger_is_a_clear_error_and_annotated_input_needs_none(test_data, monkeypatch):
    monkeypatch.setattr(pipeline, "tagger", lambda: None)
    docs, _ = read_text("Title here\n\nAspirin was given to the patients.", "t")
    with pytest.raises(ModelError):
        pipeline.process(docs)
    gold, _ = read_path(test_data / "literature" / "cdr_dev_mini.PubTator.txt")
    done, failed = pipeline.process(gold)
    assert failed == [] and all(d.relations for d in done)


def test_one_failing_batch_keeps_the_others(test_data, monkeypatch):
    calls = {"n": 0}

    def flaky(batch):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return _gazetteer(test_data)(batch)

    monkeypatch.setattr(pipeline, "tagger", lambda: flaky)
    docs = [read_text(f"Paper {i}\n\nLidocaine caused cardiac asystole in patient {i}.", f"d{i}")[0][0]
            for i in range(4)]
    done, failed = pipeline.process(docs, batch=2)
    assert [d.id for d in done] == ["d2", "d3"]
    assert [e.where for e in failed] == ["d0", "d1"] and "boom" in failed[0].reason


@pytest.mark.slow
def test_pubmed_xml_through_the_shipped_tagger_and_models(test_data):
    if pipeline.tagger() is None:
        pytest.skip("the literature tagger is not installed")
    docs, errors = read_path(test_data / "literature" / "pubmed_mini.xml")
    done, failed = pipeline.process(docs)
    assert failed == [] and [e.reason for e in errors] == ["empty abstract"]
    doc = done[0]
    assert all(doc.text[m.start:m.end] == m.text for m in doc.mentions)
    cid = {(r.subject, r.object): r for r in doc.relations if r.type == "CID"}
    rel = cid[("MESH:D002945", "MESH:D034381")]  # cisplatin -> hearing loss
    assert doc.text[rel.evidence[0]:rel.evidence[1]] == "Cisplatin-induced hearing loss in children."
