//! agents-test-support
