"""Fingerprint similarity and substructure search at library scale (the public entry point).

Build an index once, search it many times::

    from theralab.chem.search import build_index, FingerprintIndex
    build_index("library.smi", "lib.idx", fp="morgan2", bits=2048)   # parallel, resumable
    index = FingerprintIndex.open("lib.idx")
    index.similarity("CC(=O)Nc1ccc(O)cc1", threshold=0.7)            # exact, BitBound-pruned
    index.top_k("CC(=O)Nc1ccc(O)cc1", k=10)                         # exact top-k
    index.substructure("c1ccc2[nH]ccc2c1")                           # screen + RDKit match
    index.search_many(queries, k=10, threads=2)                      # batch on both cores

The implementation is split by concern: :mod:`~theralab.chem.search.readers` (streaming input),
:mod:`~theralab.chem.search.index` and :mod:`~theralab.chem.search.merge` (building),
:mod:`~theralab.chem.search.fold` (pruned exact numba kernels), :mod:`~theralab.chem.search.kernels`
(shared bounds and the numpy path), :mod:`~theralab.chem.search.query`
(the index object and result types).
"""

from __future__ import annotations

from theralab.chem.search.index import build_index
from theralab.chem.search.kernels import HAVE_NUMBA
from theralab.chem.search.query import FingerprintIndex, Hit, SearchResult, parse_query

__all__ = ["HAVE_NUMBA", "FingerprintIndex", "Hit", "SearchResult", "build_index", "parse_query"]
