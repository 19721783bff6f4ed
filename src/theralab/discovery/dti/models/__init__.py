"""The deep DTA networks and their featurisers, by name (``cnn``, ``graph``)."""

from __future__ import annotations

from typing import Any


def build(kind: str, config: dict[str, Any]) -> tuple[Any, Any]:
    """``(network, featurizer)`` for a model kind; torch is imported here, not at package import."""
    if kind == "cnn":
        from theralab.discovery.dti.models.cnn import CNNFeaturizer, DeepDTA

        return DeepDTA(**config), CNNFeaturizer(**config)
    if kind == "graph":
        from theralab.discovery.dti.models.graph import GraphDTA, GraphFeaturizer

        return GraphDTA(**config), GraphFeaturizer(**config)
    from theralab.errors import InputError

    raise InputError(f"unknown deep model {kind!r}", where="model", hint="cnn, graph or baseline")
