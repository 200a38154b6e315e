//! Signed publishes: real `ssh-keygen` keys, real git registries, three users. The root and
//! owners sign, every client verifies before it installs, and forgeries made with the CLI or by
//! hand with plain git are refused naming agent@version and the key.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use agents_format::{AgentName, RegistryId, Sha256, two_level_body_path};
use agents_test_support::{TestEnv, index_path_in, owners_path_in, read_in_remote, rewrite_in_remote};

/// A fresh ed25519 key without passphrase at `<root>/keys/<name>`; returns the private key path.
fn keygen(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.path("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C"])
        .arg(format!("{name}@test"))
        .arg("-f")
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    path
}

/// `SHA256:…` as `ssh-keygen -l` prints it.
fn fingerprint(key: &Path) -> String {
    let output = Command::new("ssh-keygen").arg("-lf").arg(pub_path(key)).output().unwrap();
    String::from_utf8(output.stdout).unwrap().split_whitespace().nth(1).unwrap().to_owned()
}

fn pub_path(key: &Path) -> PathBuf {
    key.with_extension("pub")
}

/// An armored SSHSIG over `message`, made by `ssh-keygen -Y sign` as a forger following the
/// documented format would.
fn sign_by_hand(key: &Path, namespace: &str, message: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

fn run(env: &TestEnv, args: &[&OsStr]) -> agents_test_support::Run {
    env.run(args)
}

/// A signed registry made by `owner` (its root) with `reviewer` 1.0.0 published by it, added as
/// `team` by `owner`. Returns the registry path and the owner's key.
fn signed_registry(owner: &TestEnv) -> (PathBuf, PathBuf) {
    let key = keygen(owner, "alice");
    let registry = owner.path("shared/team.git");
    run(owner, &["registry".as_ref(), "init".as_ref(), registry.as_os_str(), "--sign-key".as_ref(), key.as_os_str()])
        .success()
        .stderr_contains(&fingerprint(&key));
    run(owner, &["registry".as_ref(), "add".as_ref(), "team".as_ref(), registry.as_os_str()]).success();
    publish(owner, &key, "reviewer", "1.0.0").success().stderr_contains(&format!("signed by {}", fingerprint(&key)));
    (registry, key)
}

fn publish(env: &TestEnv, key: &Path, name: &str, version: &str) -> agents_test_support::Run {
    let file = env.path(&format!("{name}-{version}.md"));
    std::fs::write(&file, TestEnv::agent_text(name, version)).unwrap();
    run(
        env,
        &[
            "publish".as_ref(),
            file.as_os_str(),
            "--version".as_ref(),
            version.as_ref(),
            "--sign-key".as_ref(),
            key.as_os_str(),
        ],
    )
}

fn add_registry(env: &TestEnv, registry: &Path) {
    run(env, &["registry".as_ref(), "add".as_ref(), "team".as_ref(), registry.as_os_str()]).success();
}

/// Someone with push access replaces `registry`'s root: a new `config.json` with the same id,
/// signed by their own key. Returns them and their key.
fn replace_root(registry: &Path) -> (TestEnv, PathBuf) {
    let mallory = TestEnv::new();
    let mallory_key = keygen(&mallory, "mallory");
    let other = mallory.path("other.git");
    run(
        &mallory,
        &["registry".as_ref(), "init".as_ref(), other.as_os_str(), "--sign-key".as_ref(), mallory_key.as_os_str()],
    )
    .success();
    let text = String::from_utf8(read_in_remote(&other, "config.json").unwrap()).unwrap();
    let mut config = agents_format::RegistryConfig::parse(&text).unwrap();
    config.id = registry_id(registry);
    config.extra.remove("root-signature");
    let signature = sign_by_hand(&mallory_key, "agents-registry-config-v1", &agents_format::config_payload(&config));
    config.extra.insert("root-signature".into(), signature.into());
    rewrite_in_remote(registry, "config.json", config.to_text().as_bytes());
    (mallory, mallory_key)
}

fn registry_id(registry: &Path) -> RegistryId {
    let config: serde_json::Value = serde_json::from_slice(&read_in_remote(registry, "config.json").unwrap()).unwrap();
    RegistryId::new(config["id"].as_str().unwrap()).unwrap()
}

/// Appends `record` (a JSON object) to `name`'s index file with plain git, body first.
fn push_by_hand(registry: &Path, name: &str, version: &str, signature: Option<String>) {
    let body = TestEnv::agent_text(name, version).into_bytes();
    let sha = Sha256::of(&body);
    rewrite_in_remote(registry, &two_level_body_path(&sha), &body);
    let mut record = serde_json::json!({
        "schema": 1, "name": name, "version": version, "sha256": sha.to_hex(), "length": body.len(),
        "published": "2026-12-01T00:00:00Z", "yanked": false,
    });
    if let Some(signature) = signature {
        record["signature"] = signature.into();
    }
    let mut index = read_in_remote(registry, &index_path_in(registry, name)).unwrap_or_default();
    index.extend_from_slice(format!("{record}\n").as_bytes());
    rewrite_in_remote(registry, &index_path_in(registry, name), &index);
}

fn record_payload(registry: &Path, name: &str, version: &str) -> Vec<u8> {
    let sha = Sha256::of(TestEnv::agent_text(name, version).as_bytes());
    agents_format::record_payload(
        &registry_id(registry),
        &AgentName::new(name).unwrap(),
        &version.parse().unwrap(),
        &sha,
    )
}

fn install(env: &TestEnv, what: &str) -> agents_test_support::Run {
    run(env, &["install".as_ref(), what.as_ref()])
}

#[test]
fn an_owners_version_installs_and_the_lockfile_pins_its_signer() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer").success();
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("signer = \"{}\"", fingerprint(&key))), "{lockfile}");
    // The root was trusted on first use, per registry id.
    let trust = std::fs::read_to_string(carol.state_dir().join("trust.json")).unwrap();
    assert!(trust.contains(&registry_id(&registry).to_string()) && trust.contains(&fingerprint(&key)), "{trust}");
    run(&carol, &["verify".as_ref()]).success();
    // `agents verify` re-checks the pinned signer against the registry: a lockfile pinning
    // another key fails it.
    std::fs::write(carol.project.join("agents.lock"), lockfile.replace(&fingerprint(&key), "SHA256:forged")).unwrap();
    run(&carol, &["verify".as_ref()])
        .fails_with("reviewer@1.0.0 from registry `team` is now signed by")
        .stderr_contains("SHA256:forged");
}

#[test]
fn a_teammates_version_is_refused_with_the_cli_and_by_hand() {
    let alice = TestEnv::new();
    let (registry, alice_key) = signed_registry(&alice);
    let bob = TestEnv::new();
    let bob_key = keygen(&bob, "bob");
    let bob_fingerprint = fingerprint(&bob_key);
    add_registry(&bob, &registry);

    // With the CLI and his own key: publish and taking ownership are both refused.
    publish(&bob, &bob_key, "reviewer", "1.1.0")
        .fails_with("cannot publish reviewer@1.1.0")
        .stderr_contains(&format!("your key {bob_fingerprint} is not an owner of `reviewer`"));
    run(
        &bob,
        &[
            "owner".as_ref(),
            "add".as_ref(),
            "reviewer".as_ref(),
            pub_path(&bob_key).as_os_str(),
            "--sign-key".as_ref(),
            bob_key.as_os_str(),
        ],
    )
    .fails_with(&format!("your key {bob_fingerprint} is neither an owner nor the registry root"));
    // Nor can he publish unsigned.
    let file = bob.path("plain.md");
    std::fs::write(&file, TestEnv::agent_text("reviewer", "1.1.0")).unwrap();
    run(&bob, &["publish".as_ref(), file.as_os_str(), "--version".as_ref(), "1.1.0".as_ref()])
        .fails_with("the registry signs every publish");

    // By hand with plain git: a record signed with his key over the documented payload.
    let forged = sign_by_hand(&bob_key, "agents-registry-record-v1", &record_payload(&registry, "reviewer", "1.1.0"));
    push_by_hand(&registry, "reviewer", "1.1.0", Some(forged));
    // A record carrying the owner's signature of another version.
    let index = String::from_utf8(read_in_remote(&registry, &index_path_in(&registry, "reviewer")).unwrap()).unwrap();
    let first: serde_json::Value = serde_json::from_str(index.lines().next().unwrap()).unwrap();
    push_by_hand(&registry, "reviewer", "1.2.0", Some(first["signature"].as_str().unwrap().to_owned()));
    // And one with no signature at all.
    push_by_hand(&registry, "reviewer", "1.3.0", None);

    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer@=1.1.0")
        .fails_with("reviewer@1.1.0 from registry `team` is signed by")
        .stderr_contains(&format!("{bob_fingerprint}, which is not an owner of `reviewer`"))
        .stderr_contains(
            "hint: no owner of `reviewer` published this version: do not install it, and tell the registry's \
             maintainers (`agents owner list reviewer` shows who may publish)",
        );
    install(&carol, "reviewer@=1.2.0")
        .fails_with("reviewer@1.2.0 from registry `team` has an invalid signature by")
        .stderr_contains(&fingerprint(&alice_key));
    install(&carol, "reviewer@=1.3.0").fails_with("reviewer@1.3.0 from registry `team` is not signed");
    // A plain install skips every forged version, each named in a warning, and installs the
    // newest valid one: a pusher who owns nothing cannot make the package fail to install.
    let plain = install(&carol, "reviewer").success().stderr();
    for version in ["1.1.0", "1.2.0", "1.3.0"] {
        assert!(plain.contains(&format!("warning: skipped reviewer@{version}")), "{plain}");
    }
    assert!(plain.contains("Installed reviewer v1.0.0"), "{plain}");
    install(&carol, "reviewer@=1.0.0").success();

    // A lockfile pinning the forged version arrives with `git pull`: sync (the daemon's work)
    // refuses it as install does, and the file stays at the owner's version.
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    let good = Sha256::of(TestEnv::agent_text("reviewer", "1.0.0").as_bytes()).to_hex();
    let forged_sha = Sha256::of(TestEnv::agent_text("reviewer", "1.1.0").as_bytes()).to_hex();
    let pulled = lockfile.replace("1.0.0", "1.1.0").replace(&good, &forged_sha);
    let pulled: String = pulled.lines().filter(|l| !l.starts_with("signer")).map(|l| format!("{l}\n")).collect();
    std::fs::write(carol.project.join("agents.lock"), pulled).unwrap();
    let synced = run(&carol, &["sync".as_ref()]);
    assert!(
        synced.stderr().contains("reviewer@1.1.0") && synced.stderr().contains(&bob_fingerprint),
        "{}",
        synced.stderr()
    );
    assert_eq!(
        std::fs::read_to_string(carol.agents_dir().join("reviewer.md")).unwrap(),
        TestEnv::agent_text("reviewer", "1.0.0")
    );
}

#[test]
fn a_rewritten_owners_list_is_refused() {
    let alice = TestEnv::new();
    let (registry, _) = signed_registry(&alice);
    let bob = TestEnv::new();
    let bob_key = keygen(&bob, "bob");
    let bob_fingerprint = fingerprint(&bob_key);
    let bob_line = std::fs::read_to_string(pub_path(&bob_key)).unwrap().trim().to_owned();
    let id = registry_id(&registry);
    let name = AgentName::new("reviewer").unwrap();
    let path = owners_path_in(&registry, name.as_str());

    // Bob appends a revision naming his key, signed by his key.
    let mut owners: serde_json::Value = serde_json::from_slice(&read_in_remote(&registry, &path).unwrap()).unwrap();
    let first_keys: Vec<String> =
        owners["signed"][0]["keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect();
    let previous = Sha256::of(&agents_format::owners_payload(&id, &name, 0, None, &first_keys, &[]));
    let keys = vec![bob_line.clone()];
    let payload = agents_format::owners_payload(&id, &name, 1, Some(&previous), &keys, &[]);
    let signature = sign_by_hand(&bob_key, "agents-registry-owners-v1", &payload);
    owners["signed"].as_array_mut().unwrap().push(serde_json::json!({ "keys": keys, "signature": signature }));
    rewrite_in_remote(&registry, &path, format!("{owners}\n").as_bytes());
    let forged = sign_by_hand(&bob_key, "agents-registry-record-v1", &record_payload(&registry, "reviewer", "1.1.0"));
    push_by_hand(&registry, "reviewer", "1.1.0", Some(forged));

    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer")
        .fails_with("the owners list of `reviewer` in registry `team` is refused")
        .stderr_contains(&format!("revision 1 is signed by {bob_fingerprint}, which is neither the registry root"));

    // Or he replaces the whole list with one of his own making.
    let payload = agents_format::owners_payload(&id, &name, 0, None, &keys, &[]);
    let signature = sign_by_hand(&bob_key, "agents-registry-owners-v1", &payload);
    let replaced =
        serde_json::json!({ "schema": 1, "owners": [], "signed": [{ "keys": keys, "signature": signature }] });
    rewrite_in_remote(&registry, &path, format!("{replaced}\n").as_bytes());
    install(&carol, "reviewer").fails_with(&format!("revision 0 is signed by {bob_fingerprint}"));
    // Even the version the real owner signed is refused while its owners list is forged.
    install(&carol, "reviewer@=1.0.0").fails_with("the owners list of `reviewer` in registry `team` is refused");
}

#[test]
fn a_root_that_changes_is_a_hard_error_and_trust_can_be_given_up_front() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    let carol = TestEnv::new();
    // The wrong root named up front is refused before anything is trusted.
    run(
        &carol,
        &[
            "registry".as_ref(),
            "add".as_ref(),
            "team".as_ref(),
            registry.as_os_str(),
            "--trust".as_ref(),
            "SHA256:nope".as_ref(),
        ],
    )
    .fails_with(&format!("its root key is {}, not SHA256:nope", fingerprint(&key)));
    run(
        &carol,
        &[
            "registry".as_ref(),
            "add".as_ref(),
            "team".as_ref(),
            registry.as_os_str(),
            "--trust".as_ref(),
            fingerprint(&key).as_ref(),
        ],
    )
    .success();
    install(&carol, "reviewer").success();

    // Someone with push access replaces the root (a new config.json signed by their own key).
    let (_mallory, mallory_key) = replace_root(&registry);
    run(&carol, &["update".as_ref()]).fails_with("changed its root key").stderr_contains(&format!(
        "you trusted {}, it now names {}",
        fingerprint(&key),
        fingerprint(&mallory_key)
    ));

    // Dropping the root (an unsigned config.json) is no way around it.
    let unsigned = format!("{{\n  \"schema\": 1,\n  \"id\": \"{}\"\n}}\n", registry_id(&registry));
    rewrite_in_remote(&registry, "config.json", unsigned.as_bytes());
    run(&carol, &["update".as_ref()]).fails_with("no longer signs its publishes, but you trusted its root");
}

#[test]
fn unsigned_registries_work_with_a_notice_unless_signatures_are_required() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("plain", "1.0.0");
    install(&env, "plain").success().stderr_contains("registry `team` does not sign its publishes");
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(!lockfile.contains("signer"), "{lockfile}");

    // The project asks for signatures.
    let manifest = std::fs::read_to_string(env.project.join("agents.toml")).unwrap();
    std::fs::write(env.project.join("agents.toml"), format!("{manifest}\n[security]\nrequire-signatures = true\n"))
        .unwrap();
    install(&env, "plain").fails_with("the registry does not sign its publishes, and `require-signatures` refuses it");
    std::fs::write(env.project.join("agents.toml"), &manifest).unwrap();

    // The user asks for them.
    let config = env.home.join(".config/agents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[security]\nrequire-signatures = true\n")).unwrap();
    install(&env, "plain@=1.0.0").fails_with("plain@1.0.0 from registry `team`: the registry does not sign");
}

fn owner(env: &TestEnv, args: &[&OsStr]) -> agents_test_support::Run {
    let mut all: Vec<&OsStr> = vec!["owner".as_ref()];
    all.extend_from_slice(args);
    run(env, &all)
}

#[test]
fn an_owner_rotates_a_key_and_a_revoked_keys_versions_are_refused() {
    let admin = TestEnv::new();
    let root = keygen(&admin, "root");
    let old = keygen(&admin, "alice-old");
    let new = keygen(&admin, "alice-new");
    let registry = admin.path("shared/team.git");
    run(&admin, &["registry".as_ref(), "init".as_ref(), registry.as_os_str(), "--sign-key".as_ref(), root.as_os_str()])
        .success();
    add_registry(&admin, &registry);
    // Only the root can start an owners list for a new agent.
    publish(&admin, &old, "reviewer", "0.1.0").fails_with("has no owners list yet, and only the registry root");
    owner(
        &admin,
        &["add".as_ref(), "reviewer".as_ref(), pub_path(&old).as_os_str(), "--sign-key".as_ref(), root.as_os_str()],
    )
    .success();
    publish(&admin, &old, "reviewer", "1.0.0").success();

    // Rotation: the old key adds the new one, the new one removes the old.
    owner(
        &admin,
        &["add".as_ref(), "reviewer".as_ref(), pub_path(&new).as_os_str(), "--sign-key".as_ref(), old.as_os_str()],
    )
    .success();
    owner(
        &admin,
        &["remove".as_ref(), "reviewer".as_ref(), fingerprint(&old).as_ref(), "--sign-key".as_ref(), new.as_os_str()],
    )
    .success();
    let listed = owner(&admin, &["list".as_ref(), "reviewer".as_ref(), "--json".as_ref()]).success().json();
    let keys: Vec<&str> =
        listed["keys"].as_array().unwrap().iter().map(|k| k["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(keys, [fingerprint(&new)]);
    publish(&admin, &old, "reviewer", "1.2.0")
        .fails_with(&format!("your key {} is not an owner of `reviewer`", fingerprint(&old)));
    publish(&admin, &new, "reviewer", "1.1.0").success();

    // A user installs both: the version signed before the rotation stays valid.
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer@=1.0.0").success();
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("signer = \"{}\"", fingerprint(&old))), "{lockfile}");
    install(&carol, "reviewer@^1.1").success();
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("signer = \"{}\"", fingerprint(&new))), "{lockfile}");

    // Revocation: the old key was compromised, so what it signed is refused from now on.
    owner(
        &admin,
        &[
            "remove".as_ref(),
            "reviewer".as_ref(),
            fingerprint(&old).as_ref(),
            "--revoke".as_ref(),
            "--sign-key".as_ref(),
            new.as_os_str(),
        ],
    )
    .success();
    let dave = TestEnv::new();
    add_registry(&dave, &registry);
    install(&dave, "reviewer@=1.0.0")
        .fails_with(&format!("reviewer@1.0.0 from registry `team` is signed by {}", fingerprint(&old)));
    install(&dave, "reviewer").success();
}

#[test]
fn publish_signs_with_gits_ssh_signing_key_and_through_ssh_agent() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    // `user.signingkey` naming a key file, with `gpg.format = ssh`, as `git commit -S` uses it.
    alice.git(alice.root(), &["config", "--global", "gpg.format", "ssh"]);
    alice.git(alice.root(), &["config", "--global", "user.signingkey", key.to_str().unwrap()]);
    let file = alice.path("reviewer.md");
    std::fs::write(&file, TestEnv::agent_text("reviewer", "1.1.0")).unwrap();
    run(&alice, &["publish".as_ref(), file.as_os_str(), "--version".as_ref(), "1.1.0".as_ref()])
        .success()
        .stderr_contains(&format!("signed by {}", fingerprint(&key)));

    // Git's literal form names only the public key: ssh-agent holds the private one.
    let socket = alice.path("agent.sock");
    let mut agent =
        Command::new("ssh-agent").arg("-D").arg("-a").arg(&socket).stdout(std::process::Stdio::null()).spawn().unwrap();
    assert!(agents_test_support::eventually(std::time::Duration::from_secs(5), || socket.exists()));
    let added = Command::new("ssh-add").arg("-q").arg(&key).env("SSH_AUTH_SOCK", &socket).status().unwrap();
    assert!(added.success());
    let literal = format!("key::{}", std::fs::read_to_string(pub_path(&key)).unwrap().trim());
    alice.git(alice.root(), &["config", "--global", "user.signingkey", &literal]);
    alice.set_env("SSH_AUTH_SOCK", &socket);
    std::fs::write(&file, TestEnv::agent_text("reviewer", "1.2.0")).unwrap();
    let published = run(&alice, &["publish".as_ref(), file.as_os_str(), "--version".as_ref(), "1.2.0".as_ref()]);
    agent.kill().unwrap();
    agent.wait().unwrap();
    published.success().stderr_contains(&format!("signed by {}", fingerprint(&key)));

    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer@=1.1.0").success();
    install(&carol, "reviewer@=1.2.0").success();
}

#[test]
fn registry_check_enforces_the_signature_rules_and_append_only_owners() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    let check = |since: Option<&str>| {
        let mut args: Vec<&OsStr> = vec!["registry".as_ref(), "check".as_ref(), registry.as_os_str()];
        if let Some(since) = since {
            args.push(OsStr::new("--since"));
            args.push(OsStr::new(since));
        }
        run(&alice, &args)
    };
    check(None).success();

    // A key added, then removed (a teammate who left): the list now has three revisions.
    let bob = TestEnv::new();
    let bob_key = keygen(&bob, "bob");
    owner(
        &alice,
        &["add".as_ref(), "reviewer".as_ref(), pub_path(&bob_key).as_os_str(), "--sign-key".as_ref(), key.as_os_str()],
    )
    .success();
    let path = owners_path_in(&registry, "reviewer");
    let with_bob = read_in_remote(&registry, &path).unwrap();
    owner(
        &alice,
        &[
            "remove".as_ref(),
            "reviewer".as_ref(),
            fingerprint(&bob_key).as_ref(),
            "--sign-key".as_ref(),
            key.as_os_str(),
        ],
    )
    .success();
    let head = || {
        let output = Command::new("git").arg("-C").arg(&registry).args(["rev-parse", "HEAD"]).output().unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let before = head();
    check(Some(&before)).success();

    // Rolling the list back to the revision that still named bob verifies on its own (each
    // revision is validly signed), so a client reading the tip cannot tell; CI can.
    rewrite_in_remote(&registry, &path, &with_bob);
    check(Some(&before)).fails_with("rewrites the signed owners list of `reviewer` instead of appending a revision");

    // With bob's key back in the list, his version passes the check of HEAD alone; an unsigned
    // one pushed by hand never does.
    let forged = sign_by_hand(&bob_key, "agents-registry-record-v1", &record_payload(&registry, "reviewer", "2.0.0"));
    push_by_hand(&registry, "reviewer", "2.0.0", Some(forged));
    push_by_hand(&registry, "reviewer", "3.0.0", None);
    let report = check(None).fails_with("reviewer@3.0.0 from registry");
    assert!(
        report.stderr().contains("is not signed") && !report.stderr().contains("reviewer@2.0.0"),
        "{}",
        report.stderr()
    );
    // Once the list is put right, bob's version fails too, naming his key.
    let output =
        Command::new("git").arg("-C").arg(&registry).args(["show", &format!("{before}:{path}")]).output().unwrap();
    rewrite_in_remote(&registry, &path, &output.stdout);
    check(None)
        .fails_with("reviewer@2.0.0 from registry")
        .stderr_contains(&format!("is signed by {}, which is not an owner of `reviewer`", fingerprint(&bob_key)));
}

#[test]
fn the_daemons_auto_update_skips_a_forged_version() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    run(&carol, &["install".as_ref(), "--global".as_ref(), "reviewer".as_ref()]).success();
    publish(&alice, &key, "reviewer", "1.0.1").success();
    let bob = TestEnv::new();
    let bob_key = keygen(&bob, "bob");
    let forged = sign_by_hand(&bob_key, "agents-registry-record-v1", &record_payload(&registry, "reviewer", "1.0.2"));
    push_by_hand(&registry, "reviewer", "1.0.2", Some(forged));
    let config = carol.home.join(".config/agents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[daemon]\nauto-update = \"patch\"\n")).unwrap();

    let _daemon = agents_test_support::DaemonGuard::start(&carol);
    run(&carol, &["daemon".as_ref(), "sync".as_ref()]).success();
    let file = carol.home.join(".claude/agents/reviewer.md");
    let wanted = TestEnv::agent_text("reviewer", "1.0.1");
    assert!(
        agents_test_support::eventually(std::time::Duration::from_secs(20), || {
            std::fs::read_to_string(&file).ok().as_deref() == Some(wanted.as_str())
        }),
        "{:?}",
        std::fs::read_to_string(&file)
    );
    let lockfile = std::fs::read_to_string(carol.home.join(".config/agents/agents.lock")).unwrap();
    assert!(lockfile.contains("version = \"1.0.1\"") && lockfile.contains(&fingerprint(&key)), "{lockfile}");
}

/// Signatures are checked on what a registry returns, whichever way it was read: the same
/// signed tree served over sparse HTTP installs with its signer pinned, and a version pushed by
/// hand with no signature is refused there too.
#[test]
fn signatures_hold_the_same_over_a_sparse_registry() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    push_by_hand(&registry, "forged", "1.0.0", None);
    let www = alice.path("www");
    agents_test_support::export_tree(&registry, &www);
    let server = agents_test_support::servers::StaticServer::start(&www);

    let carol = TestEnv::new();
    run(&carol, &["registry".as_ref(), "add".as_ref(), "team".as_ref(), server.url().as_ref()]).success();
    install(&carol, "reviewer").success();
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("signer = \"{}\"", fingerprint(&key))), "{lockfile}");
    install(&carol, "forged").fails_with("forged@1.0.0");
    assert!(!carol.agents_dir().join("forged.md").exists());
}

/// An import into a signed registry signs every record with the key `agents publish` uses
/// (git's `user.signingkey`), so teammates install what it published.
#[test]
fn an_import_into_a_signed_registry_is_signed() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    alice.git(alice.root(), &["config", "--global", "gpg.format", "ssh"]);
    alice.git(alice.root(), &["config", "--global", "user.signingkey", key.to_str().unwrap()]);
    let collection = alice.path("collection");
    std::fs::create_dir_all(&collection).unwrap();
    for name in ["alpha", "beta"] {
        std::fs::write(collection.join(format!("{name}.md")), TestEnv::agent_text(name, "1.0.0")).unwrap();
    }
    run(&alice, &["import".as_ref(), collection.as_os_str(), "--registry".as_ref(), "team".as_ref()]).success();
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "alpha").success();
    install(&carol, "beta").success();
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert_eq!(lockfile.matches(&format!("signer = \"{}\"", fingerprint(&key))).count(), 2, "{lockfile}");
}

/// `publish` never claims a signature no client checks: to a registry without a root key, the
/// signature a configured key makes is said to be unchecked, and "signed by" is said only where
/// the registry checks it.
#[test]
fn publish_claims_a_signature_only_where_the_registry_checks_it() {
    let env = TestEnv::new();
    env.registry("team");
    let key = keygen(&env, "alice");
    let unsigned = publish(&env, &key, "plain", "1.0.0").success();
    assert!(!unsigned.stderr().contains("signed by"), "{}", unsigned.stderr());
    assert!(unsigned.stderr().contains("no client checks the signature"), "{}", unsigned.stderr());
    let owner = TestEnv::new();
    let (_, owner_key) = signed_registry(&owner);
    let signed = publish(&owner, &owner_key, "reviewer", "1.1.0").success();
    assert!(signed.stderr().contains("signed by SHA256:"), "{}", signed.stderr());
}

/// Trust travels with the project: the first install from a signed registry pins its root in
/// `agents.lock` (`[roots]`), so a machine that never used the registry (a new teammate, CI)
/// refuses a replaced root instead of trusting whatever it sees first.
#[test]
fn the_lockfile_pins_each_registry_root_and_a_fresh_machine_refuses_another() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    install(&alice, "reviewer").success();
    let lockfile = std::fs::read_to_string(alice.project.join("agents.lock")).unwrap();
    let id = registry_id(&registry);
    assert!(lockfile.contains(&format!("[roots]\n{id} = \"{}\"", fingerprint(&key))), "{lockfile}");
    // The pin changes nothing for a plain reinstall, and `--locked` holds.
    run(&alice, &["install".as_ref(), "--locked".as_ref()]).success();
    assert_eq!(std::fs::read_to_string(alice.project.join("agents.lock")).unwrap(), lockfile);

    // Someone with push access replaces the root.
    let _mallory = replace_root(&registry);

    // A new teammate, who never trusted anything, clones the project.
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    std::fs::copy(alice.project.join("agents.toml"), carol.project.join("agents.toml")).unwrap();
    std::fs::copy(alice.project.join("agents.lock"), carol.project.join("agents.lock")).unwrap();
    run(&carol, &["install".as_ref()]).fails_with("changed its root key").stderr_contains(&fingerprint(&key));
    assert!(!carol.agents_dir().join("reviewer.md").exists());
}

/// Signing is on by default: `registry init` makes the key git signs with the registry's root
/// and says so; `--unsigned` is the explicit way out, and without any key it warns.
#[test]
fn registry_init_signs_with_the_configured_key_by_default() {
    let env = TestEnv::new();
    let key = keygen(&env, "alice");
    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        command.args(["config", "--global"]).args(args);
        env.isolate(&mut command);
        assert!(command.status().unwrap().success());
    };
    let plain = env.path("plain.git");
    run(&env, &["registry".as_ref(), "init".as_ref(), plain.as_os_str()]).success().stderr_contains("unsigned");
    git(&["gpg.format", "ssh"]);
    git(&["user.signingkey", &key.display().to_string()]);
    let signed = env.path("signed.git");
    run(&env, &["registry".as_ref(), "init".as_ref(), signed.as_os_str()])
        .success()
        .stderr_contains(&fingerprint(&key));
    let config: serde_json::Value = serde_json::from_slice(&read_in_remote(&signed, "config.json").unwrap()).unwrap();
    assert!(config.get("root").is_some() || config.get("root-key").is_some(), "{config}");
    let opted_out = env.path("opted-out.git");
    let out =
        run(&env, &["registry".as_ref(), "init".as_ref(), opted_out.as_os_str(), "--unsigned".as_ref()]).success();
    assert!(!out.stderr().contains("warning"), "{}", out.stderr());
}

/// `registry add --trust FINGERPRINT --project` pins the root in `agents.lock` before any
/// package comes from the registry: an install of something else keeps the pin, and a teammate's
/// fresh clone refuses a replaced root on its first install from the registry.
#[test]
fn registry_add_trust_pins_the_root_in_the_project_lockfile() {
    let owner = TestEnv::new();
    let (registry, key) = signed_registry(&owner);
    let alice = TestEnv::new();
    let root = fingerprint(&key);
    run(
        &alice,
        &[
            "registry".as_ref(),
            "add".as_ref(),
            "team".as_ref(),
            registry.as_os_str(),
            "--project".as_ref(),
            "--trust".as_ref(),
            root.as_ref(),
        ],
    )
    .success()
    .stderr_contains("Pinned");
    let pin = format!("[roots]\n{} = \"{root}\"", registry_id(&registry));
    let lockfile = || std::fs::read_to_string(alice.project.join("agents.lock")).unwrap_or_default();
    assert!(lockfile().contains(&pin), "{}", lockfile());
    // An install from another registry keeps it.
    install(&alice, "docs-writer").success();
    assert!(lockfile().contains(&pin), "{}", lockfile());

    let _mallory = replace_root(&registry);
    let carol = TestEnv::new();
    std::fs::copy(alice.project.join("agents.toml"), carol.project.join("agents.toml")).unwrap();
    std::fs::copy(alice.project.join("agents.lock"), carol.project.join("agents.lock")).unwrap();
    install(&carol, "reviewer").fails_with("changed its root key").stderr_contains(&root);
    assert!(!carol.agents_dir().join("reviewer.md").exists());
}

#[test]
fn the_site_shows_who_signed_each_version_and_marks_a_forgery() {
    let alice = TestEnv::new();
    let (registry, alice_key) = signed_registry(&alice);
    let bob_key = keygen(&alice, "bob");
    let forged = sign_by_hand(&bob_key, "agents-registry-record-v1", &record_payload(&registry, "reviewer", "1.1.0"));
    push_by_hand(&registry, "reviewer", "1.1.0", Some(forged));
    // An owner's signed yank counts; a flag flipped with plain git does not, on the site as in
    // every client.
    publish(&alice, &alice_key, "reviewer", "1.2.0").success();
    yank(&alice, "reviewer@1.2.0", Some(&alice_key), false).success();
    edit_record(&registry, "reviewer", "1.0.0", |record| record["yanked"] = true.into());
    let www = alice.path("www");
    crate::site::build(&alice, &registry, &www).success();
    let page = std::fs::read_to_string(www.join("packages/reviewer.html")).unwrap();
    let row = |version: &str| {
        let start = page.find(&format!("<tr><th scope=\"row\">{version}</th>")).unwrap();
        page[start..start + page[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("1.0.0").contains(&format!("<code>{}</code>", fingerprint(&alice_key))), "{}", row("1.0.0"));
    assert!(
        row("1.1.0").contains("refused by clients") && !row("1.1.0").contains(&fingerprint(&alice_key)),
        "{}",
        row("1.1.0")
    );
    assert!(row("1.2.0").contains("<strong class=\"yanked\">yanked</strong>"), "{}", row("1.2.0"));
    assert!(
        row("1.0.0").contains("available <span class=\"problem\">(marked yanked without an owner&#39;s signature"),
        "{}",
        row("1.0.0")
    );
    // The owners' keys and the registry's root.
    let owners = &page[page.find("<h2 id=\"owners\">").unwrap()..];
    assert!(owners.contains(&format!("<li><code>{}</code></li>", fingerprint(&alice_key))), "{owners}");
    assert!(owners.contains(&format!("root key <code>{}</code>", fingerprint(&alice_key))), "{owners}");
    // The page shows the latest version clients accept, not the forgery.
    assert!(page.contains("About version 1.0.0"), "{page}");
}

fn yank(env: &TestEnv, what: &str, key: Option<&Path>, undo: bool) -> agents_test_support::Run {
    let mut args: Vec<&OsStr> = vec!["yank".as_ref(), what.as_ref()];
    if undo {
        args.push("--undo".as_ref());
    }
    if let Some(key) = key {
        args.extend(["--sign-key".as_ref(), key.as_os_str()]);
    }
    run(env, &args)
}

/// Rewrites the record of `name@version` in the registry with plain git, as anyone with push
/// access could.
fn edit_record(registry: &Path, name: &str, version: &str, edit: impl Fn(&mut serde_json::Value)) {
    let path = index_path_in(registry, name);
    let text = String::from_utf8(read_in_remote(registry, &path).unwrap()).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
        if record["version"] == version {
            edit(&mut record);
        }
        out.push_str(&format!("{record}\n"));
    }
    rewrite_in_remote(registry, &path, out.as_bytes());
}

fn head(registry: &Path) -> String {
    let output = Command::new("git").arg("-C").arg(registry).args(["rev-parse", "HEAD"]).output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn installed_version(env: &TestEnv, name: &str) -> String {
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    let entry = lockfile.split("[[agent]]").find(|entry| entry.contains(&format!("name = \"{name}\""))).unwrap();
    entry.lines().find_map(|line| line.strip_prefix("version = \"")).unwrap().trim_end_matches('"').to_owned()
}

/// In a signed registry a yank is an owner's signed statement: `yank` without a key, or with a
/// key that owns nothing, writes nothing; a flag flipped or set by hand is not a yank; and a
/// client that saw an unyank refuses the yank statement before it replayed.
#[test]
fn yanks_are_signed_by_an_owner_and_checked_by_clients() {
    let alice = TestEnv::new();
    let (registry, key) = signed_registry(&alice);
    publish(&alice, &key, "reviewer", "1.1.0").success();
    yank(&alice, "reviewer@1.1.0", None, false).fails_with("a yank is signed by an owner");
    let bob = TestEnv::new();
    let bob_key = keygen(&bob, "bob");
    add_registry(&bob, &registry);
    yank(&bob, "reviewer@1.1.0", Some(&bob_key), false)
        .fails_with(&format!("your key {} is neither an owner of `reviewer`", fingerprint(&bob_key)));
    yank(&alice, "reviewer@1.1.0", Some(&key), false).success().stderr_contains("Yanked");
    let record = String::from_utf8(read_in_remote(&registry, &index_path_in(&registry, "reviewer")).unwrap()).unwrap();
    assert!(record.contains("\"yank\":{\"change\":1,\"signature\":\"-----BEGIN SSH SIGNATURE"), "{record}");
    let before = head(&registry);
    run(&alice, &["registry".as_ref(), "check".as_ref(), registry.as_os_str()]).success();

    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer").success();
    assert_eq!(installed_version(&carol, "reviewer"), "1.0.0", "the signed yank keeps new installs off 1.1.0");

    // Someone with push access and no key unyanks 1.1.0 by flipping the flag, and yanks 1.0.0
    // by setting it: neither counts, and both are named.
    edit_record(&registry, "reviewer", "1.1.0", |r| r["yanked"] = false.into());
    edit_record(&registry, "reviewer", "1.0.0", |r| r["yanked"] = true.into());
    let dave = TestEnv::new();
    add_registry(&dave, &registry);
    let installed = install(&dave, "reviewer")
        .success()
        .stderr_contains("reviewer@1.1.0 in registry `team`: its yanked flag differs from its owner's signed statement")
        .stderr_contains("reviewer@1.0.0 in registry `team` is marked yanked without an owner's signature");
    // Said once, however often the command reads the index file.
    assert_eq!(installed.stderr().matches("is marked yanked without").count(), 1, "{}", installed.stderr());
    assert_eq!(installed_version(&dave, "reviewer"), "1.0.0");
    run(&alice, &["registry".as_ref(), "check".as_ref(), registry.as_os_str()])
        .fails_with("reviewer@1.0.0 is yanked without an owner's signature")
        .stderr_contains("reviewer@1.1.0: `yanked` is not what its signed statement says");
    let by_hand = head(&registry);

    // The owner unyanks (statement 2); carol sees it. Replaying statement 1 is refused by
    // carol, who saw statement 2, and by the registry's CI.
    rewrite_in_remote(&registry, &index_path_in(&registry, "reviewer"), &{
        let output = Command::new("git")
            .arg("-C")
            .arg(&registry)
            .args(["show", &format!("{before}:{}", index_path_in(&registry, "reviewer"))])
            .output()
            .unwrap();
        output.stdout
    });
    yank(&alice, "reviewer@1.1.0", Some(&key), true).success().stderr_contains("Unyanked");
    let unyanked = head(&registry);
    run(&carol, &["update".as_ref()]).success();
    assert_eq!(installed_version(&carol, "reviewer"), "1.1.0");
    let path = index_path_in(&registry, "reviewer");
    let output = Command::new("git").arg("-C").arg(&registry).args(["show", &format!("{before}:{path}")]).output();
    rewrite_in_remote(&registry, &path, &output.unwrap().stdout);
    run(&carol, &["update".as_ref()])
        .fails_with("signed yank statements went back to earlier ones")
        .stderr_contains("reviewer@1.1.0 (yank statement 2 → 1)");
    run(&alice, &["registry".as_ref(), "check".as_ref(), registry.as_os_str(), "--since".as_ref(), unyanked.as_ref()])
        .fails_with("reviewer@1.1.0: its signed yank statement went back");
    assert_ne!(by_hand, unyanked);
}

/// `agents registry sign` makes an unsigned registry signed in one commit that the registry's
/// CI accepts: the root signs every version and yank, every agent gets an owners list, a client
/// that used the registry unsigned goes on installing (now checked), and a version pushed by
/// hand afterwards without a signature is refused.
#[test]
fn an_unsigned_registry_is_signed_in_place() {
    let alice = TestEnv::new();
    let registry = alice.registry("team");
    alice.publish("reviewer", "1.0.0");
    alice.publish("reviewer", "1.1.0");
    alice.publish("helper", "2.0.0");
    yank(&alice, "reviewer@1.1.0", None, false).success();
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer").success().stderr_contains("does not sign its publishes");
    assert_eq!(installed_version(&carol, "reviewer"), "1.0.0");

    let key = keygen(&alice, "root");
    let before = head(&registry);
    run(&alice, &["registry".as_ref(), "sign".as_ref(), "--sign-key".as_ref(), key.as_os_str()])
        .success()
        .stderr_contains(&format!("root {}; 3 versions of 2 packages and 1 yank signed by it", fingerprint(&key)));
    run(&alice, &["registry".as_ref(), "sign".as_ref(), "--sign-key".as_ref(), key.as_os_str()])
        .success()
        .stderr_contains("already signed");
    run(&alice, &["registry".as_ref(), "check".as_ref(), registry.as_os_str(), "--since".as_ref(), before.as_ref()])
        .success();

    install(&carol, "helper").success();
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("signer = \"{}\"", fingerprint(&key))), "{lockfile}");
    run(&carol, &["verify".as_ref()]).success();
    // The yank made before signing still holds, now signed by the root.
    let dave = TestEnv::new();
    add_registry(&dave, &registry);
    install(&dave, "reviewer").success();
    assert_eq!(installed_version(&dave, "reviewer"), "1.0.0");
    push_by_hand(&registry, "reviewer", "2.0.0", None);
    install(&dave, "reviewer@2.0.0").fails_with("reviewer@2.0.0 from registry `team` is not signed");
}

/// `agents registry rotate-root` hands the registry to a new root: the old root signs the
/// handover, clients and projects that trusted it follow (the lockfile's pin moves), the
/// registry's CI accepts the commit, and the old key counts for nothing afterwards.
#[test]
fn a_root_rotation_is_followed_by_clients_that_trusted_the_old_root() {
    let alice = TestEnv::new();
    let (registry, old) = signed_registry(&alice);
    yank(&alice, "reviewer@1.0.0", Some(&old), false).success();
    yank(&alice, "reviewer@1.0.0", Some(&old), true).success();
    let carol = TestEnv::new();
    add_registry(&carol, &registry);
    install(&carol, "reviewer").success();
    let id = registry_id(&registry);
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("{id} = \"{}\"", fingerprint(&old))), "{lockfile}");

    let new = keygen(&alice, "new-root");
    let before = head(&registry);
    let rotate = |signer: &Path| {
        run(
            &alice,
            &[
                "registry".as_ref(),
                "rotate-root".as_ref(),
                "--new-key".as_ref(),
                new.as_os_str(),
                "--sign-key".as_ref(),
                signer.as_os_str(),
            ],
        )
    };
    rotate(&new).fails_with("is not its root");
    rotate(&old).success().stderr_contains(&format!("from {} to {}", fingerprint(&old), fingerprint(&new)));
    run(&alice, &["registry".as_ref(), "check".as_ref(), registry.as_os_str(), "--since".as_ref(), before.as_ref()])
        .success();

    // The new root owns what the old one owned; the old key can no longer publish.
    publish(&alice, &old, "reviewer", "1.2.0").fails_with("is not an owner of `reviewer`");
    publish(&alice, &new, "reviewer", "1.1.0").success();
    run(&carol, &["update".as_ref()]).success().stderr_contains(&format!(
        "handed its root from {} to {}",
        fingerprint(&old),
        fingerprint(&new)
    ));
    assert_eq!(installed_version(&carol, "reviewer"), "1.1.0");
    let lockfile = std::fs::read_to_string(carol.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains(&format!("{id} = \"{}\"", fingerprint(&new))), "{lockfile}");
    // A fresh clone of a project that still pins the old root follows the handover too.
    let erin = TestEnv::new();
    add_registry(&erin, &registry);
    std::fs::write(erin.project.join("agents.toml"), std::fs::read(carol.project.join("agents.toml")).unwrap())
        .unwrap();
    std::fs::write(
        erin.project.join("agents.lock"),
        lockfile.replace(&format!("{id} = \"{}\"", fingerprint(&new)), &format!("{id} = \"{}\"", fingerprint(&old))),
    )
    .unwrap();
    run(&erin, &["install".as_ref()]).success();
    // A version signed by hand with the old key after the rotation is refused.
    let forged = sign_by_hand(&old, "agents-registry-record-v1", &record_payload(&registry, "reviewer", "3.0.0"));
    push_by_hand(&registry, "reviewer", "3.0.0", Some(forged));
    install(&erin, "reviewer@3.0.0")
        .fails_with(&format!("is signed by {}, which is not an owner of `reviewer`", fingerprint(&old)));
}
