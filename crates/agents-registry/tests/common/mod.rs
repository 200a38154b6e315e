//! What the registry's integration tests share.

use agents_registry::{Cache, Publish};

/// Publishes agent `name` at `version` to the registry at `url` as `team`, its body
/// `Body of NAME VERSION.`
pub(crate) fn publish(cache: &Cache, url: &str, name: &str, version: &str, description: &str) {
    let text = format!("---\nname: {name}\ndescription: {description}\n---\nBody of {name} {version}.\n");
    let request = Publish {
        bytes: text.as_bytes(),
        label: name,
        version: Some(version.parse().unwrap()),
        now: 1_767_225_600,
        deny_hidden_unicode: false,
        requires: &[],
        allow_unloadable: false,
        source: None,
    };
    agents_registry::publish(cache, "team", url, &request).unwrap();
}
