"""ADMET endpoint units come from one table (ADMET-AI's endpoint list, spelled for readers)."""

from __future__ import annotations

import pytest


def test_endpoint_units_come_from_one_table():
    pytest.importorskip("admet_ai")
    from theralab.discovery.admet import endpoint_meta, unit_of

    assert unit_of("Solubility_AqSolDB") == "log(mol/L)" and unit_of("hERG") == "probability"
    assert unit_of("tpsa") == "Å²" and unit_of("Half_Life_Obach") == "h" and unit_of("VDss_Lombardo") == "L/kg"
    assert all(m["unit"] for k, m in endpoint_meta().items() if m["kind"] == "regression" and k != "QED")
