"""Chart specs: the shape theralab.js draws, JSON-ready from numpy, axes always titled."""

from __future__ import annotations

import json

import numpy as np
import pytest

from theralab.web.charts import axis, chart_spec


def test_chart_spec_has_the_contract_shape_and_is_json():
    spec = chart_spec("Plasma concentration", axis("Time", "h"), ("Concentration", "mg/L", "log"),
                      [{"x": np.arange(3), "y": np.array([1.0, np.nan, 0.5]), "name": "500 mg q12h"}],
                      bands=[{"y0": 1, "y1": 2, "color": "#e5f4ea", "label": "therapeutic"}], download="pk.csv")
    assert set(spec) == {"title", "x", "y", "traces", "shapes", "bands", "download"}
    assert spec["x"] == {"title": "Time", "unit": "h", "type": "linear"}
    assert spec["y"]["type"] == "log"
    assert spec["traces"][0]["y"] == [1.0, None, 0.5]  # NaN is not JSON
    json.dumps(spec, allow_nan=False)


def test_chart_spec_refuses_bad_axes_and_bands():
    with pytest.raises(ValueError, match="axis type"):
        axis("t", "h", "polar")
    with pytest.raises(ValueError, match="y1"):
        chart_spec("t", "x", "y", [], bands=[{"y0": 1}])


def test_chart_macro_renders_a_json_block_not_a_script(api):
    from theralab.web.templating import templates

    spec = chart_spec("A </script> title", "x", "y", [{"x": [1], "y": [2]}])
    html = templates.env.from_string('{% import "_ui.html" as ui %}{{ ui.chart("c1", spec) }}').render(spec=spec)
    assert 'data-chart="c1"' in html and '<script type="application/json" id="c1">' in html
    assert "</script> title" not in html  # tojson escapes '<' so the title cannot close the block
