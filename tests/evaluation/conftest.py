"""The gate scenario (five real pipeline runs), shared by every test of the session that asks for it."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import gate_scenario  # noqa: E402


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> dict:
    return gate_scenario.load_or_run_scenario(str(tmp_path_factory.getbasetemp() / "gate_scenario"))
