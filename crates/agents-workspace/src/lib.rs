//! agents-workspace
