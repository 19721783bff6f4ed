"""Hypothesis property tests for the trust layer's parsers and sanitisers (any input, never a crash,
and the invariant each one promises)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theralab.errors import ForbiddenError, InputError
from theralab.privacy.audit import clean
from theralab.privacy.auth import check_password_policy
from theralab.privacy.confine import confined, safe_name
from theralab.privacy.deid import DeidConfig, Deidentifier

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DEID = Deidentifier(DeidConfig(key=b"property-key"))


@FAST
@given(st.text())
def test_audit_fields_are_one_printable_line(value):
    out = clean(value, 50)
    assert len(out) <= 50
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", out)


@FAST
@given(st.text(max_size=200))
def test_safe_names_never_name_a_path(value):
    try:
        name = safe_name(value, "x")
    except InputError:
        return
    assert "/" not in name and "\\" not in name and ".." not in name and name == value


@FAST
@given(st.lists(st.sampled_from(["a", "b", "..", ".", "c d", "é"]), max_size=6))
def test_confined_paths_stay_inside(tmp_path_factory, parts):
    root = tmp_path_factory.mktemp("root")
    try:
        target = confined(root.joinpath(*parts) if parts else root, root)
    except ForbiddenError:
        assert ".." in parts
        return
    assert target == root.resolve() or root.resolve() in target.parents


@FAST
@given(st.text(max_size=300))
def test_password_policy_only_raises_input_errors(password):
    try:
        check_password_policy(password, "ana")
    except InputError:
        return
    assert 12 <= len(password) <= 256


emails = st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(org|com|net)", fullmatch=True)
phones = st.from_regex(r"\(\d{3}\) \d{3}-\d{4}|\d{3}-\d{3}-\d{4}", fullmatch=True)
filler = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "Zs"]), max_size=40)


@FAST
@given(filler, emails, filler, phones, filler)
def test_scrubbed_notes_hold_no_email_or_phone(a, email, b, phone, c):
    text = f"{a} {email} {b} call {phone} {c}"
    out = DEID.scrub_text(text, "p1")
    assert email not in out and phone not in out


@FAST
@given(st.text(max_size=400))
def test_scrub_text_never_crashes_and_is_stable(text):
    out = DEID.scrub_text(text, "p1")
    assert isinstance(out, str)
    assert DEID.scrub_text(text, "p1") == out  # deterministic for one key and patient


@pytest.mark.parametrize("value", ["2024-02-29", "2023-12-31T23:59:59Z", "2020-01"])
def test_date_shift_round_trips_through_iso(value):
    shifted = DEID.shift_date_text(value, "p1")
    assert len(shifted) == len(value) or value.endswith("Z")
    assert shifted != value and Path(shifted).name == shifted
