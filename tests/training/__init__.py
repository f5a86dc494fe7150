"""Tests of `components/training`."""
