"""Tests of `components/evaluation`; `gate_scenario` is the gate runs that tests/report reads too."""
