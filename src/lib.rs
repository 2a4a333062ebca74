//! Examples, integration tests and benchmarks of ld4lg.
