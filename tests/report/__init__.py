"""Tests of `components/report`."""
