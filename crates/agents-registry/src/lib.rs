//! agents-registry
