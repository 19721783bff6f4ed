"""Distributional word clusters: words in the same contexts share a cluster; JSON round trip."""

from __future__ import annotations


def test_word_clusters_group_words_sharing_contexts(tmp_path):
    from theralab.nlp.clusters import build_clusters, load_clusters, save_clusters

    texts = ["treated with aspirin daily\ntreated with ibuprofen daily\ntreated with aspirin daily\n"
             "treated with ibuprofen daily\nhistory of asthma in 2010\nhistory of eczema in 2010\n"
             "history of asthma in 2010\nhistory of eczema in 2010"]
    cl = build_clusters(texts, dims=3, sizes=(2,), contexts=50)
    assert cl["aspirin"] == cl["ibuprofen"] and cl["asthma"] == cl["eczema"]
    assert cl["aspirin"] != cl["asthma"]
    save_clusters(cl, tmp_path / "c.json")
    assert load_clusters(tmp_path / "c.json") == cl
