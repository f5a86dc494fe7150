"""The same gate scenario as tests/evaluation (one run per session: its outcome is cached on disk)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "evaluation"))
import gate_scenario  # noqa: E402


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> dict:
    return gate_scenario.load_or_run_scenario(str(tmp_path_factory.getbasetemp() / "gate_scenario"))
