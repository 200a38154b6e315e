//! Optional per-agent owners lists: who may publish new versions of an agent or yank it. They
//! live in the registry beside the index (`owners/<shard>/<name>`) and are enforced by
//! `agents registry check` on the registry's protected branch.

use crate::index::index_path;
use crate::name::AgentName;

/// The owners file schema this client reads and writes.
pub const OWNERS_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owners {
    pub schema: u32,
    /// Commit author e-mail addresses allowed to change the agent.
    pub owners: Vec<String>,
}

impl Owners {
    pub fn parse(text: &str) -> Result<Owners, String> {
        let owners: Owners = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if owners.schema != OWNERS_SCHEMA {
            return Err(format!("owners schema {} is not understood (expected {OWNERS_SCHEMA})", owners.schema));
        }
        if owners.owners.is_empty() {
            return Err("the owners list is empty, so nobody could change the agent".to_owned());
        }
        Ok(owners)
    }

    /// Whether `email` is an owner (addresses compare case-insensitively).
    pub fn allows(&self, email: &str) -> bool {
        self.owners.iter().any(|owner| owner.eq_ignore_ascii_case(email))
    }
}

/// Where an agent's owners list lives: the index path under `owners/` instead of `index/`.
pub fn owners_path(name: &AgentName) -> String {
    let index = index_path(name);
    format!("owners/{}", index.strip_prefix("index/").expect("index paths start with index/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_files() {
        assert_eq!(owners_path(&AgentName::new("go-backend-expert").unwrap()), "owners/go/-b/go-backend-expert");
        let owners = Owners::parse(r#"{"schema":1,"owners":["Alice@Example.com"]}"#).unwrap();
        assert!(owners.allows("alice@example.com"));
        assert!(!owners.allows("bob@example.com"));
        assert!(Owners::parse(r#"{"schema":1,"owners":[]}"#).is_err());
        assert!(Owners::parse(r#"{"schema":2,"owners":["a"]}"#).is_err());
        assert!(Owners::parse("nope").is_err());
    }
}
