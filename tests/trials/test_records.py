"""``trials.records.Record``: the one ``to_dict`` of the trials result dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from theralab.trials.design import OperatingCharacteristics
from theralab.trials.records import Record


@dataclass(frozen=True)
class _Inner(Record):
    z: float


@dataclass(frozen=True)
class _Result(Record):
    p: float
    inner: _Inner
    notes: list[str] = field(default_factory=list)


def test_to_dict_is_every_field_with_nested_dataclasses_as_dicts():
    assert _Result(0.04, _Inner(2.1), ["ok"]).to_dict() == {"p": 0.04, "inner": {"z": 2.1}, "notes": ["ok"]}


def test_the_design_results_keep_their_to_dict():
    oc = OperatingCharacteristics("ssr", 100, 0, 0.8, 120.0, 0.1, 0.05, 0.01, {"n2_mean": 50.0})
    assert isinstance(oc, Record) and oc.to_dict() == asdict(oc)
    assert list(oc.to_dict()) == [f.name for f in fields(OperatingCharacteristics)]
