"""Developer tooling behind the Makefile (`install`, `train`, `run`, `eval`, `bench`, `fuzz`,
`soak`, `report`, …) and the e2e fixtures. May import any app package (core/, actions/, bot/);
none imports it back. `install`, `progress` and `model_hash` use the standard library only."""
