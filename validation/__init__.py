"""The validation harness: posterior comparison, SBC, Geweke, mutants, golden files, CLI."""
