"""Encryption at rest (issue 18 part 7): with THERALAB_ENCRYPTION_KEY set, names, MRN, city and
genotypes are stored as Fernet tokens and read back in clear; off by default; key rotation; a
missing key is a clear error. On SQLite and on PostgreSQL (THERALAB_TEST_PG)."""

from __future__ import annotations

import json

import pytest

PATIENT = {"resourceType": "Patient", "id": "enc-1", "gender": "female", "birthDate": "1961-02-03",
           "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "MRN-778899"}],
           "name": [{"family": "Featherstonehaugh", "given": ["Imogen"]}],
           "address": [{"city": "Kirkcudbright", "state": "MA", "postalCode": "02139"}]}


def _raw(session, sql: str) -> list[str]:
    from sqlalchemy import text

    return [str(v) for row in session.execute(text(sql)) for v in row if v is not None]


def _store(session) -> None:
    from theralab.ehr.fhir import import_text
    from theralab.ehr.patients import save_genotype

    report = import_text(json.dumps(PATIENT), session)
    assert report.patients == 1, report.errors
    save_genotype(session, "enc-1", "CYP2C19", "*2/*17", phenotype="Intermediate Metabolizer")


def test_columns_are_encrypted_at_rest_and_read_in_clear(tl_env_any_db, monkeypatch):
    from cryptography.fernet import Fernet

    from theralab.ehr.patients import load_patient
    from theralab.runtime.db import session_scope

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("THERALAB_ENCRYPTION_KEY", key)
    with session_scope() as session:
        _store(session)
    with session_scope() as session:
        raw = _raw(session, "SELECT mrn, family, given, city FROM ehr_patients")
        raw += _raw(session, "SELECT diplotype, phenotype FROM ehr_genotypes")
        assert len(raw) == 6 and all(v.startswith("enc1:") for v in raw)
        dump = " ".join(raw)
        for secret in ("Featherstonehaugh", "Imogen", "778899", "Kirkcudbright", "*2/*17", "Intermediate"):
            assert secret not in dump
        record = load_patient(session, "enc-1")
        assert (record.family, record.given) == ("Featherstonehaugh", "Imogen")
        assert [g.diplotype for g in record.genotypes] == ["*2/*17"]
    # rotation: a new key first, the old one after it -> old rows still read, new rows use the new key
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("THERALAB_ENCRYPTION_KEY", f"{new},{key}")
    with session_scope() as session:
        assert load_patient(session, "enc-1").family == "Featherstonehaugh"
    # without the key an encrypted value is an error, never ciphertext shown as a name
    from theralab.privacy.crypto import EncryptionError

    monkeypatch.delenv("THERALAB_ENCRYPTION_KEY")
    with session_scope() as session, pytest.raises(EncryptionError):
        load_patient(session, "enc-1")


def test_off_by_default_stores_plain_text(tl_env_any_db, monkeypatch):
    from theralab.ehr.patients import load_patient
    from theralab.runtime.db import session_scope

    monkeypatch.delenv("THERALAB_ENCRYPTION_KEY", raising=False)
    with session_scope() as session:
        _store(session)
    with session_scope() as session:
        assert "Featherstonehaugh" in _raw(session, "SELECT family FROM ehr_patients")
        assert load_patient(session, "enc-1").given == "Imogen"


def test_a_bad_key_is_refused_clearly(monkeypatch):
    from theralab.privacy.crypto import EncryptionError, encrypt

    monkeypatch.setenv("THERALAB_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(EncryptionError):
        encrypt("x")


def test_db_encrypt_rewrites_plain_rows_and_finishes_a_rotation(tl_env, monkeypatch):
    from cryptography.fernet import Fernet
    from typer.testing import CliRunner

    from theralab.cli.main import app
    from theralab.ehr.patients import load_patient
    from theralab.runtime.db import session_scope

    runner = CliRunner()
    monkeypatch.delenv("THERALAB_ENCRYPTION_KEY", raising=False)
    with session_scope() as session:
        _store(session)  # written before any key: plain
    assert runner.invoke(app, ["db", "encrypt"]).exit_code == 2  # no key, nothing to do
    old = Fernet.generate_key().decode()
    monkeypatch.setenv("THERALAB_ENCRYPTION_KEY", old)
    result = runner.invoke(app, ["db", "encrypt"])
    assert result.exit_code == 0 and "ehr_patients: 1 rows" in result.output, result.output
    with session_scope() as session:
        raw = _raw(session, "SELECT mrn, family, given, city FROM ehr_patients")
        raw += _raw(session, "SELECT diplotype, phenotype FROM ehr_genotypes")
        assert len(raw) == 6 and all(v.startswith("enc1:") for v in raw)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("THERALAB_ENCRYPTION_KEY", f"{new},{old}")
    assert runner.invoke(app, ["db", "encrypt"]).exit_code == 0
    monkeypatch.setenv("THERALAB_ENCRYPTION_KEY", new)  # the old key is no longer needed
    with session_scope() as session:
        record = load_patient(session, "enc-1")
        assert record.family == "Featherstonehaugh" and record.genotypes[0].diplotype == "*2/*17"
