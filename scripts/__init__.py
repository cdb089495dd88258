"""Developer tooling: the process supervisor behind `make run` and the e2e fixtures."""
