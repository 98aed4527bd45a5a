"""Schema validation in a helper process (what `analysis data` does on a multi-core machine)
gives the same verdicts and the same outputs as validation in this process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_facts_rules import GOOD

from analysis.errors import AnalysisError
from analysis.facts import pipeline, validation
from analysis.facts.validation import SchemaValidationError, SchemaValidator
from analysis.paths import PROCESSED

GOOD_ROW = GOOD  # a valid row of national_clusters_by_province


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_helper_writes_the_same_bytes_as_inline_validation(tmp_path):
    inline, helper = tmp_path / "inline", tmp_path / "helper"
    pipeline.run(strict=True, processed_dir=PROCESSED, out_dir=inline)
    with SchemaValidator(background=True) as validator:
        summary = pipeline.run(
            strict=True, processed_dir=PROCESSED, out_dir=helper, validator=validator
        )
    assert summary.exit_code == 0
    assert _files(helper) == _files(inline)
    assert len(_files(helper)) == len(summary.written) == 21


@pytest.mark.parametrize("background", [False, True], ids=["inline", "helper"])
def test_a_bad_table_fails_with_the_table_column_and_value(background):
    bad = {**GOOD_ROW, "clusters": -8}
    with SchemaValidator(background=background) as validator:
        validator.validate({"national_clusters_by_province": [GOOD_ROW]})  # passes
    with SchemaValidator(background=background) as validator:
        with pytest.raises(SchemaValidationError) as info:
            validator.validate({"national_clusters_by_province": [bad]})
    message = str(info.value)
    assert "national_clusters_by_province" in message
    assert "column clusters" in message and "-8" in message


def test_nothing_is_written_when_the_helper_rejects_a_table(tmp_path, monkeypatch):
    real_build = pipeline.build

    def build_with_a_bad_row(*args, **kwargs):
        base = real_build(*args, **kwargs)
        base.tables["cluster_competition_rounds"][0]["launched"] = "2019-13"
        return base

    monkeypatch.setattr(pipeline, "build", build_with_a_bad_row)
    out = tmp_path / "out"
    with SchemaValidator(background=True) as validator:
        with pytest.raises(SchemaValidationError, match="launched"):
            pipeline.run(processed_dir=PROCESSED, out_dir=out, validator=validator)
    assert not out.exists()


def test_a_helper_that_dies_is_a_clear_error(monkeypatch):
    command = [sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"]
    monkeypatch.setattr(validation, "_helper_command", lambda: command)
    with SchemaValidator(background=True) as validator:
        with pytest.raises(AnalysisError) as info:
            validator.validate({"national_clusters_by_province": [GOOD_ROW]})
    message = str(info.value)
    assert "status 3" in message and "boom" in message
    assert "ANALYSIS_VALIDATION_HELPER=0" in message


def test_an_unused_helper_is_stopped():
    validator = SchemaValidator(background=True)
    process = validator._process
    assert process is not None and process.poll() is None
    validator.close()
    assert process.returncode is not None


def test_the_default(monkeypatch):
    monkeypatch.setenv("ANALYSIS_VALIDATION_HELPER", "0")
    assert validation.background_default() is False
    monkeypatch.setenv("ANALYSIS_VALIDATION_HELPER", "1")
    assert validation.background_default() is True
    monkeypatch.delenv("ANALYSIS_VALIDATION_HELPER")
    # In this test session pandera is already imported: a helper would only add work.
    import pandera  # noqa: F401

    assert validation.background_default() is False


def test_analysis_data_with_the_helper_reproduces_data_processed(tmp_path):
    """The real command in a fresh process, helper on: the committed bytes, in --out."""
    command = [str(Path(sys.executable).with_name("analysis")), "data", "--strict"]
    env = {**os.environ, "ANALYSIS_VALIDATION_HELPER": "1"}
    done = subprocess.run(
        [*command, "--out", str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "13/13 pass" in done.stdout
    assert _files(tmp_path) == {name: (PROCESSED / name).read_bytes() for name in _files(tmp_path)}
    assert len(_files(tmp_path)) == 25  # 4 corpus files, 21 of the fact base
