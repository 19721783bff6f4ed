"""Readers: PubMed XML, PubTator, BioC JSON and text give Documents with exact offsets; bad input gives
per-document errors while the batch keeps its good documents."""

from __future__ import annotations

import json

from theralab.literature.readers import (
    MAX_CHARS,
    decode,
    detect_format,
    read_bioc_json,
    read_bytes,
    read_path,
    read_pubmed_xml,
    read_pubtator_text,
    read_text,
    split_sentences,
)


def test_pubmed_xml_sections_offsets_year_mesh_and_empty_abstract(test_data):
    docs, errors = read_path(test_data / "literature" / "pubmed_mini.xml")
    assert [d.id for d in docs] == ["90000001", "90000002"]
    assert [(e.where.split(": ")[-1], e.reason) for e in errors] == [("PMID 90000003", "empty abstract")]
    d = docs[0]
    assert d.title == "Cisplatin-induced hearing loss in children."
    assert d.text == d.title + " " + d.abstract
    assert d.year == 2019 and d.meta["journal"] == "Journal of Made-up Pharmacology"
    assert d.meta["mesh"] == [{"ui": "D002945", "name": "Cisplatin"}]
    sections = {s.name: (s.start, s.end) for s in d.sections}
    assert sections["title"] == (0, 43)
    assert d.text[slice(*sections["background"])] == "Cisplatin causes ototoxicity."
    assert d.text[slice(*sections["results"])].startswith("Hearing loss developed")
    assert [d.text[s:e] for s, e in d.sentences] == [
        "Cisplatin-induced hearing loss in children.", "Cisplatin causes ototoxicity.",
        "Hearing loss developed in 12 of 40 children after cisplatin.", "Sodium thiosulfate reduced it."]
    assert docs[1].year == 2001  # from <MedlineDate>2001 Jan-Feb</MedlineDate>


def test_malformed_and_hostile_xml_are_errors_not_crashes():
    docs, errors = read_pubmed_xml("<PubmedArticleSet><PubmedArticle>", "broken.xml")
    assert docs == [] and "malformed XML" in errors[0].reason and errors[0].where == "broken.xml"
    xxe = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID></MedlineCitation></PubmedArticle>"
           "</PubmedArticleSet>")
    docs, errors = read_bytes(xxe.encode(), "xxe.xml")
    assert docs == [] and "refused XML" in errors[0].reason
    docs, errors = read_pubmed_xml("<html><body/></html>", "page.xml")
    assert docs == [] and "no PubmedArticle" in errors[0].reason


def test_pubtator_mentions_keep_exact_offsets_and_relations(test_data):
    docs, errors = read_path(test_data / "literature" / "cdr_dev_mini.PubTator.txt")
    assert errors == [] and len(docs) == 4
    d = docs[0]
    assert d.id == "10565806" and d.title == "Hypomania-like syndrome induced by olanzapine."
    for m in d.mentions:
        assert d.text[m.start:m.end] == m.text and m.source == "gold"
    assert (d.mentions[1].start, d.mentions[1].end, d.mentions[1].identifier) == (35, 45, "C076029")
    assert d.meta["relations"] == [["CID", "C076029", "D001714"]]
    assert d.sentences[0] == (0, 46)


def test_pubtator_mismatched_mention_is_dropped_with_an_error_and_doc_kept():
    text = "1|t|Aspirin and asthma.\n1|a|Aspirin worsened asthma in two patients of the clinic.\n" \
           "1\t0\t7\tAspirin\tChemical\tD001241\n1\t12\t18\tastxma\tDisease\tD001249\n"
    docs, errors = read_pubtator_text(text, "x.pubtator")
    assert len(docs) == 1 and len(docs[0].mentions) == 1
    assert "does not match" in errors[0].reason and errors[0].where == "x.pubtator: PMID 1"


def test_bioc_json_round_offsets_and_bad_documents(test_data):
    docs, errors = read_path(test_data / "literature" / "genes_mini.bioc.json")
    assert errors == [] and [d.id for d in docs] == ["G1", "G2", "G3"]
    d = docs[0]
    assert d.year == 2015 and d.title == "Gefitinib inhibits EGFR in lung cancer."
    assert all(d.text[m.start:m.end] == m.text for m in d.mentions)
    assert {m.type for m in d.mentions} == {"Chemical", "Gene", "Disease"}
    bad = json.dumps({"documents": [{"id": "ok", "passages": [{"offset": 0, "text": "Aspirin and asthma."}]},
                                    {"id": "nopass"}, 7]})
    docs, errors = read_bioc_json(bad, "b.json")
    assert [d.id for d in docs] == ["ok"] and len(errors) == 2
    assert read_bioc_json("{not json", "c.json")[1][0].reason.startswith("not JSON")


def test_plain_and_pdf_text_join_hyphenated_lines():
    raw = "Drug-induced liver injury\n\nAcetaminophen overdose causes hepato-\ntoxicity in adults.\nIt is common.\n"
    docs, errors = read_text(raw, "paper")
    assert errors == []
    d = docs[0]
    assert d.title == "Drug-induced liver injury"
    assert d.abstract == "Acetaminophen overdose causes hepatotoxicity in adults. It is common."
    assert [d.text[s:e] for s, e in d.sentences][1:] == ["Acetaminophen overdose causes hepatotoxicity in adults.",
                                                          "It is common."]


def test_non_english_empty_huge_and_encodings():
    german = ("Die Patienten wurden mit dem Medikament behandelt und die Ergebnisse der Studie zeigen, dass die "
              "Behandlung bei der Mehrzahl der Patienten mit der Erkrankung wirksam ist und die Nebenwirkungen "
              "gering sind, was die Autoren der Arbeit und der Klinik mit den Daten der Kontrollgruppe verglichen.")
    assert "English" in read_text(german, "de")[1][0].reason
    assert "empty" in read_text("   \n\n ", "blank")[1][0].reason
    huge = "Aspirin is used in patients with pain. " * (MAX_CHARS // 30)
    assert "more than" in read_text(huge, "big")[1][0].reason
    latin1 = "Title of the paper\n\nThe café patients received naïve aspirin and were observed.".encode("latin-1")
    docs, errors = read_bytes(latin1, "l1.txt")
    assert errors == [] and "café" in docs[0].text
    utf16 = "Title\n\nAspirin was given to the patients with asthma.".encode("utf-16")
    docs, errors = read_bytes(utf16, "u16.txt")
    assert errors == [] and docs[0].abstract.startswith("Aspirin")
    assert decode(b"\xef\xbb\xbfabc", "x") == "abc"
    assert "cannot decode" in read_bytes(b"\x00\x01\xff\xfe\x00", "bin.dat")[1][0].reason


def test_batch_keeps_good_documents_and_reports_duplicates(tmp_path, test_data):
    (tmp_path / "a.txt").write_text("Aspirin and asthma\n\nAspirin worsened asthma in the patients.")
    (tmp_path / "b.xml").write_text("<PubmedArticleSet><oops")
    (tmp_path / "c.pubtator").write_text((test_data / "literature" / "cdr_dev_mini.PubTator.txt").read_text())
    (tmp_path / "d.pubtator").write_text((test_data / "literature" / "cdr_dev_mini.PubTator.txt").read_text())
    docs, errors = read_path(tmp_path)
    assert len(docs) == 5  # a.txt + four PubTator records once
    reasons = " ".join(e.reason for e in errors)
    assert "malformed XML" in reasons and reasons.count("duplicate document id") == 4


def test_detect_format_and_sentence_splitter():
    assert detect_format("x.xml", "") == "pubmed-xml"
    assert detect_format("x", "123|t|Title") == "pubtator"
    assert detect_format("x.json", "") == "bioc-json"
    assert detect_format("x.txt", "Hello") == "text"
    text = "Doses (e.g. 5 mg) were given. Smith et al. found it. Then 3 patients died."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Doses (e.g. 5 mg) were given.", "Smith et al. found it.", "Then 3 patients died."]
