"""The test suite, a package: test folders import shared helpers by name (`tests.training.training_fixtures`)."""
