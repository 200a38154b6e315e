//! End-to-end tests: the real `agents` binary against temporary homes, projects and real git
//! registries (bare repositories over file paths). One test binary for the whole workspace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod bad_input;
mod check;
mod claude_rules;
mod concurrency;
mod corpus;
mod crash;
mod daemon;
mod daemon_machines;
mod daemon_security;
mod dependencies;
mod edits;
mod engine;
mod error_wording;
mod fidelity;
mod first_hour;
mod hostile;
mod import;
mod install;
mod json;
mod layout;
mod lifecycle;
mod lint;
mod mcp;
mod merge;
mod model;
mod packages;
mod plugins;
mod publish_rules;
mod readme;
mod registry;
mod release_profile;
mod signing;
mod site;
mod site_browser;
mod sparse;
mod targets;
mod team_flow;
mod terminal;
mod tool_rules;
mod transports;
mod two_users;
mod untrusted;
