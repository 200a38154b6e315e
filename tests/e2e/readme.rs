//! The README is a contract, and these tests hold it: every command example in README.md runs,
//! in a fresh home, with its documented output or effect checked; and every `agents ...`
//! command line mentioned in README.md and docs/*.md names subcommands and flags the built CLI
//! still has (as its own `--help` lists them), and a flag mentioned on its own (`` `--frozen` ``)
//! is one of some `agents` command or of `cargo xtask`.
//!
//! How README.md's fenced blocks run (each block in its own fresh [`TestEnv`], its commands in
//! order, in the project directory):
//!
//! - ```` ```console ````: each `$ COMMAND` line runs; the lines after it, up to the next `$`
//!   line or the end of the block, must be exactly what it prints (stdout, then stderr;
//!   trailing spaces and blank lines at the end ignored). There is no placeholder syntax:
//!   show output that does not depend on the machine.
//! - ```` ```sh ````: every line that is not a comment runs (a line ending in `\` continues on
//!   the next).
//! - Commands run with `sh -c`, so `~`, `&&` and `>` mean what they mean in a shell: `HOME` is
//!   the test's home, and the built `agents` and `agentsd` come first on `PATH`.
//! - Every command must exit 0.
//! - The effects the README promises are checked after each command, from its arguments:
//!   `agents install NAME...` leaves `.claude/agents/NAME.md` (or the skill's
//!   `.claude/skills/NAME/SKILL.md`, or the command's `.claude/commands/NAME.md`; under the home with `--global`,
//!   and each `--target`'s file too), `agents uninstall NAME` removes it, `agents init` writes
//!   `agents.toml`, `agents new NAME` writes `NAME.md`, `agents registry init PATH` makes a
//!   registry with a `config.json`, and `> FILE` leaves a non-empty FILE.
//!
//! What a test cannot run as written is listed in [`REWRITES`], [`SKIPS`] and [`FIXTURES`],
//! each with why. An entry that no example uses any more fails the test, so the lists cannot
//! outlive the examples they were made for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use agents_test_support::{TestEnv, bin_dir, read_in_remote, repo_root};

/// A textual replacement applied to an example command before it runs.
struct Rewrite {
    from: &'static str,
    /// `{root}` stands for the test's temporary directory.
    to: &'static str,
    why: &'static str,
}

const REWRITES: &[Rewrite] = &[
    Rewrite {
        from: "cargo install --locked --path crates/agents && ",
        to: "",
        why: "the binaries under test are already built (and installing them would write to the real ~/.cargo)",
    },
    Rewrite {
        from: "ssh://git@git.example.com/team/agents.git",
        to: "~/registries/team.git",
        why: "the example host does not exist; the registry the block's own `agents registry init` made stands in for it",
    },
    Rewrite {
        from: "agents registry check --since origin/main~1",
        to: "git clone -q ~/registries/team.git ~/team-ci && cd ~/team-ci && agents registry check --since origin/main~1",
        why: "it runs in the registry's CI, that is in a checkout of the registry, where `origin/main` exists",
    },
    Rewrite {
        from: "sparse+https://team.example.com/agents/",
        to: "$(cat {root}/sparse-url)",
        why: "tests never use the network: the block's fixture serves a registry's tree on loopback and writes its URL there",
    },
    Rewrite {
        from: "agents resolve code-reviewer --edit",
        to: "EDITOR=\"sed -i -e '/^<<<<<<< /d' -e '/^|||||||/,/^>>>>>>> /d' -e '/^=======/,/^>>>>>>> /d'\" \
             agents resolve code-reviewer --edit",
        why: "no one types in a test: the editor is a sed that keeps the user's side of each conflict",
    },
    Rewrite {
        from: "https://github.com/acme/agents-marketplace.git",
        to: "file://{root}/agents-marketplace.git",
        why: "tests never use the network: a local git repository laid out as a plugin marketplace stands in for it",
    },
];

/// An example command that is not run at all.
struct Skip {
    command: &'static str,
    why: &'static str,
}

const SKIPS: &[Skip] = &[Skip { command: "cargo xtask test", why: "it is the whole test suite, this test included" }];

/// What a section's examples take for granted, made before its first command runs.
struct Fixture {
    /// The heading the block is under.
    heading: &'static str,
    what: &'static str,
    setup: fn(&TestEnv),
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        heading: "Local edits",
        what: "an update of code-reviewer that conflicts with a local edit, kept aside",
        setup: |env| {
            env.registry("team");
            env.publish("code-reviewer", "1.0.0");
            env.run(["install", "code-reviewer@^1", "--registry", "team"]).success();
            write(&env.agents_dir().join("code-reviewer.md"), "my own reviewer\n");
            env.publish("code-reviewer", "1.0.1");
            env.run(["update", "code-reviewer"]).fails_with("conflict");
        },
    },
    Fixture {
        heading: "Quickstart",
        what: "the agent file `agents lint path/to/agent.md` reads",
        setup: |env| {
            write(&env.project.join("path/to/agent.md"), &TestEnv::agent_text("agent", "1.0.0"));
        },
    },
    Fixture {
        heading: "A team registry",
        what: "the agent file `agents publish my-agent.md` publishes",
        setup: |env| {
            write(&env.project.join("my-agent.md"), &TestEnv::agent_text("my-agent", "1.0.0"));
        },
    },
    Fixture {
        heading: "Bring an existing collection",
        what: "the registry `team`, a directory `./my-agents` of agent files, and a plugin marketplace in git",
        setup: |env| {
            env.registry("team");
            for name in ["review-bot", "doc-bot"] {
                write(&env.project.join(format!("my-agents/{name}.md")), &TestEnv::agent_text(name, "1.0.0"));
            }
            let market = env.path("marketplace");
            write(
                &market.join(".claude-plugin/marketplace.json"),
                r#"{"name":"acme","owner":{"name":"acme"},"plugins":[{"name":"helpers","source":"./plugins/helpers"}]}"#,
            );
            write(&market.join("plugins/helpers/agents/market-helper.md"), &TestEnv::agent_text("market-helper", "1"));
            env.git(&market, &["init", "-q"]);
            env.git(&market, &["add", "."]);
            env.git(&market, &["commit", "-q", "-m", "marketplace"]);
            let bare = env.path("agents-marketplace.git");
            env.git(env.root(), &["clone", "-q", "--bare", market.to_str().unwrap(), bare.to_str().unwrap()]);
        },
    },
    Fixture {
        heading: "Plugins",
        what: "a registry holding the plugin `my-plugin` and the agent `reviewer`",
        setup: |env| {
            env.registry("team");
            let plugin = env.path("my-plugin");
            write(&plugin.join(".claude-plugin/plugin.json"), r#"{"name":"my-plugin","version":"1.0.0"}"#);
            write(&plugin.join("skills/plan/SKILL.md"), "---\nname: plan\ndescription: Plans\n---\nPlan.\n");
            env.run([std::ffi::OsStr::new("publish"), plugin.as_os_str()]).success();
            env.publish("reviewer", "1.0.0");
        },
    },
    Fixture {
        heading: "A sparse registry on any static host",
        what: "a registry with `my-agent`, its tree served by a static web server on loopback",
        setup: |env| {
            let git = env.registry("origin");
            env.publish("my-agent", "1.0.0");
            env.run(["registry", "remove", "origin"]).success();
            let www = env.path("www");
            agents_test_support::export_tree(&git, &www);
            let server = agents_test_support::servers::StaticServer::start(&www);
            write(&env.path("sparse-url"), &server.url());
            // The block's commands run after this returns: the server serves until the test ends.
            std::mem::forget(server);
        },
    },
    Fixture {
        heading: "Skills and slash commands",
        what: "the registry `team`, a skill directory `pdf-forms` with a script, and a command file `ship.md`",
        setup: |env| {
            env.registry("team");
            write(
                &env.project.join("pdf-forms/SKILL.md"),
                "---\nname: pdf-forms\ndescription: Fill in PDF forms with the bundled script\n---\nRun scripts/fill.sh.\n",
            );
            write(&env.project.join("pdf-forms/scripts/fill.sh"), "#!/bin/sh\necho filled\n");
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(
                env.project.join("pdf-forms/scripts/fill.sh"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            write(&env.project.join("ship.md"), "---\ndescription: Ship the current branch\n---\nShip $ARGUMENTS.\n");
        },
    },
    Fixture {
        heading: "The daemon",
        what: "an installed code-reviewer, for `agents diff code-reviewer`",
        setup: |env| {
            env.run(["install", "code-reviewer"]).success();
        },
    },
];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Where each `--target` puts an agent's file: (target, in a project, in the home).
const TARGET_PATHS: &[(&str, &str, &str)] = &[
    ("opencode", ".opencode/agent/NAME.md", ".config/opencode/agent/NAME.md"),
    ("copilot", ".github/agents/NAME.agent.md", ".copilot/agents/NAME.agent.md"),
    ("cursor", ".cursor/agents/NAME.md", ".cursor/agents/NAME.md"),
    ("gemini", ".gemini/agents/NAME.md", ".gemini/agents/NAME.md"),
    ("codex", ".codex/agents/NAME.toml", ".codex/agents/NAME.toml"),
];

/// A fenced block of a Markdown file.
struct Block {
    heading: String,
    lang: String,
    /// The line of the first line inside the fence (1-based).
    line: usize,
    lines: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut open: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some(block), None) => block.lines.push(line.to_owned()),
            (None, Some(lang)) => {
                open = Some(Block {
                    heading: heading.clone(),
                    lang: lang.trim().to_owned(),
                    line: index + 2,
                    lines: vec![],
                })
            }
            (None, None) => {
                if let Some(title) = line.strip_prefix('#') {
                    heading = title.trim_start_matches('#').trim().to_owned();
                }
            }
        }
    }
    blocks
}

/// One command of a README example, with the output the README shows for it (console blocks).
struct Example {
    line: usize,
    command: String,
    expected: Option<String>,
}

fn examples(block: &Block) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut continued = false;
    for (offset, line) in block.lines.iter().enumerate() {
        let number = block.line + offset;
        if block.lang == "console" {
            match line.strip_prefix("$ ") {
                Some(command) => {
                    examples.push(Example { line: number, command: command.to_owned(), expected: Some(String::new()) })
                }
                None => {
                    let last = examples.last_mut().expect("a console block starts with a `$ ` line");
                    let expected = last.expected.as_mut().unwrap();
                    expected.push_str(line);
                    expected.push('\n');
                }
            }
            continue;
        }
        let trimmed = line.trim();
        if continued {
            let last = examples.last_mut().unwrap();
            last.command.push('\n');
            last.command.push_str(line);
        } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
            examples.push(Example { line: number, command: line.clone(), expected: None });
        }
        continued = trimmed.ends_with('\\');
    }
    examples
}

/// Output as compared: trailing spaces and trailing blank lines dropped.
fn normalise(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1);
    lines[..end].join("\n")
}

/// What the CLI says about itself: its options (and whether each takes a value) and its
/// subcommands, read from `agents ... --help`.
#[derive(Default)]
struct Cli {
    options: BTreeMap<String, bool>,
    subcommands: BTreeMap<String, Cli>,
}

impl Cli {
    fn read(env: &TestEnv, path: &[String]) -> Cli {
        let mut args = path.to_vec();
        args.push("--help".to_owned());
        let help = env.run(&args).success().stdout();
        let mut cli = Cli::default();
        let mut section = "";
        for line in help.lines() {
            // A blank line separates items in clap's long layout; it ends no section.
            if line.is_empty() {
                continue;
            }
            if !line.starts_with(' ') {
                section = line;
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let item = line.trim_start().split("  ").next().unwrap_or_default();
            match section {
                // Wrapped descriptions are indented further than the items.
                "Commands:" if indent == 2 && item != "help" => {
                    let mut sub = path.to_vec();
                    sub.push(item.to_owned());
                    cli.subcommands.insert(item.to_owned(), Cli::read(env, &sub));
                }
                "Commands:" if indent == 2 => {
                    cli.subcommands.insert(item.to_owned(), Cli::default());
                }
                "Options:" if indent <= 6 && item.starts_with('-') => {
                    let takes_value = item.contains('<');
                    for name in item.split([',', ' ']).filter(|n| n.starts_with('-')) {
                        cli.options.insert(name.trim_end_matches("...").to_owned(), takes_value);
                    }
                }
                _ => {}
            }
        }
        cli
    }

    /// Every option of every command.
    fn all_options(&self, into: &mut std::collections::BTreeSet<String>) {
        into.extend(self.options.keys().cloned());
        for sub in self.subcommands.values() {
            sub.all_options(into);
        }
    }
}

/// The flags `cargo xtask` takes: the `"--..."` literals of its sources.
fn xtask_flags() -> Vec<String> {
    let mut flags = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("xtask/src")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            if piece.starts_with("--") && piece[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                flags.push(piece.to_owned());
            }
        }
    }
    flags
}

/// An `agents` command line resolved against the CLI: the subcommand path, the flags given and
/// the other arguments.
#[derive(Debug, Default)]
struct Invocation {
    path: Vec<String>,
    flags: Vec<(String, Option<String>)>,
    arguments: Vec<String>,
}

impl Invocation {
    fn flag(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|(flag, _)| names.contains(&flag.as_str()))
    }

    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags.iter().filter(move |(flag, _)| flag == name).filter_map(|(_, value)| value.as_deref())
    }
}

/// Resolves the words after `agents`; an error names the first subcommand or flag the CLI does
/// not have.
fn resolve(cli: &Cli, words: &[String]) -> Result<Invocation, String> {
    let mut invocation = Invocation::default();
    let mut command = cli;
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let shown = || format!("agents {}", invocation.path.join(" ")).trim_end().to_owned();
        if word.starts_with('-') && word.len() > 1 {
            let (name, inline) = match word.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (word.as_str(), None),
            };
            let Some(&takes_value) = command.options.get(name) else {
                let known: Vec<&str> = command.options.keys().map(String::as_str).collect();
                return Err(format!("`{name}` is not an option of `{}` (it has {})", shown(), known.join(", ")));
            };
            let value = if takes_value && inline.is_none() { words.next().cloned() } else { inline };
            invocation.flags.push((name.to_owned(), value));
        } else if !command.subcommands.is_empty() && invocation.arguments.is_empty() {
            let Some(sub) = command.subcommands.get(word.as_str()) else {
                let known: Vec<&str> = command.subcommands.keys().map(String::as_str).collect();
                return Err(format!("`{word}` is not a subcommand of `{}` (it has {})", shown(), known.join(", ")));
            };
            invocation.path.push(word.clone());
            command = sub;
        } else {
            invocation.arguments.push(word.clone());
        }
    }
    Ok(invocation)
}

/// Splits a shell command into simple commands (at `&&`, `||`, `;` and `|`), each as words
/// (quotes removed), with the file of a `>` redirection, up to a `#` comment. Enough shell for
/// the README, not a shell.
fn simple_commands(line: &str) -> Vec<(Vec<String>, Option<String>)> {
    let mut commands = vec![(Vec::new(), None)];
    let mut chars = line.chars().peekable();
    let mut word: Option<String> = None;
    let mut redirect = false;
    let finish = |word: &mut Option<String>, commands: &mut Vec<(Vec<String>, Option<String>)>, redirect: &mut bool| {
        if let Some(done) = word.take() {
            let last = commands.last_mut().unwrap();
            if *redirect {
                last.1 = Some(done);
                *redirect = false;
            } else {
                last.0.push(done);
            }
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                let text = word.get_or_insert_with(String::new);
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                    text.push(inner);
                }
            }
            '#' if word.is_none() => break,
            ' ' | '\t' | '\n' | '\\' => finish(&mut word, &mut commands, &mut redirect),
            '>' => {
                finish(&mut word, &mut commands, &mut redirect);
                redirect = true;
            }
            '&' | '|' | ';' => {
                finish(&mut word, &mut commands, &mut redirect);
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                commands.push((Vec::new(), None));
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    finish(&mut word, &mut commands, &mut redirect);
    commands.retain(|(words, _)| !words.is_empty());
    commands
}

fn expand_home(env: &TestEnv, path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => env.home.join(rest),
        None => env.project.join(path),
    }
}

/// The effects the README promises for `invocation`, checked; returns what does not hold.
fn check_effects(env: &TestEnv, invocation: &Invocation) -> Vec<String> {
    let mut problems = Vec::new();
    let global = invocation.flag(&["--global", "-g"]);
    let base = if global { &env.home } else { &env.project };
    let names = || invocation.arguments.iter().map(|a| a.split('@').next().unwrap().to_owned());
    let mut expect = |path: PathBuf, present: bool, why: String| {
        if path.exists() != present {
            problems.push(format!(
                "{} {}: {why}",
                path.display(),
                if present { "is missing" } else { "is still there" }
            ));
        }
    };
    let path: Vec<&str> = invocation.path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["install"] => {
            for name in names() {
                // An agent, a skill or a slash command, each in its own Claude Code directory.
                let places = [
                    base.join(format!(".claude/agents/{name}.md")),
                    base.join(format!(".claude/skills/{name}/SKILL.md")),
                    base.join(format!(".claude/commands/{name}.md")),
                ];
                let installed = places.iter().find(|p| p.exists()).unwrap_or(&places[0]).clone();
                expect(installed, true, format!("`install {name}` installs it"));
                for target in invocation.values("--target") {
                    let (_, project, home) = TARGET_PATHS
                        .iter()
                        .find(|(t, ..)| *t == target)
                        .unwrap_or_else(|| panic!("TARGET_PATHS lacks {target}"));
                    let relative = if global { home } else { project }.replace("NAME", &name);
                    expect(base.join(relative), true, format!("`--target {target}` writes {name} for {target}"));
                }
            }
        }
        ["uninstall"] => {
            for name in names() {
                expect(base.join(format!(".claude/agents/{name}.md")), false, format!("`uninstall {name}` removes it"));
            }
        }
        ["init"] => expect(env.project.join("agents.toml"), true, "`init` creates agents.toml".to_owned()),
        ["new"] if !invocation.flag(&["--output"]) => {
            for name in names() {
                expect(env.project.join(format!("{name}.md")), true, format!("`new {name}` writes {name}.md"));
            }
        }
        ["registry", "init"] => {
            for path in &invocation.arguments {
                let registry = expand_home(env, path);
                if !registry.exists() || read_in_remote(&registry, "config.json").is_none() {
                    problems.push(format!("`registry init {path}` made no bare repository with a config.json"));
                }
            }
        }
        _ => {}
    }
    problems
}

/// The environment of an example command: the test user's, with the built binaries first on
/// `PATH`.
fn shell(env: &TestEnv, command: &str) -> Command {
    let mut shell = Command::new("sh");
    env.isolate(&mut shell);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir()];
    dirs.extend(std::env::split_paths(&path));
    shell.env("PATH", std::env::join_paths(dirs).unwrap()).current_dir(&env.project).arg("-c").arg(command);
    shell
}

#[test]
fn every_command_the_readme_shows_works() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let probe = TestEnv::new();
    let cli = Cli::read(&probe, &[]);
    let mut used_rewrites = vec![false; REWRITES.len()];
    let mut used_skips = vec![false; SKIPS.len()];
    let mut used_fixtures = vec![false; FIXTURES.len()];
    let mut problems = Vec::new();
    let mut ran = 0;
    for block in blocks(&readme).iter().filter(|b| b.lang == "console" || b.lang == "sh") {
        let env = TestEnv::new();
        if let Some(index) = FIXTURES.iter().position(|f| f.heading == block.heading) {
            used_fixtures[index] = true;
            (FIXTURES[index].setup)(&env);
        }
        let mut started_daemon = false;
        for example in examples(block) {
            let at = format!("README.md:{}: `{}`", example.line, example.command);
            if let Some(index) = SKIPS.iter().position(|s| s.command == example.command.trim()) {
                used_skips[index] = true;
                eprintln!("{at}: skipped: {}", SKIPS[index].why);
                continue;
            }
            let mut command = example.command.clone();
            for (index, rewrite) in REWRITES.iter().enumerate() {
                if command.contains(rewrite.from) {
                    used_rewrites[index] = true;
                    eprintln!("{at}: rewritten: {}", rewrite.why);
                    command =
                        command.replace(rewrite.from, &rewrite.to.replace("{root}", &env.root().display().to_string()));
                }
            }
            // Noted before it runs: a start that fails may still have left a daemon.
            started_daemon |= command.contains("daemon start");
            let output = shell(&env, &command).output().unwrap();
            ran += 1;
            let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            let shown = || format!("{at} (run as `{command}`)\n--- stdout\n{stdout}--- stderr\n{stderr}");
            if !output.status.success() {
                problems.push(format!("{} exited with {}", shown(), output.status));
                continue;
            }
            if let Some(expected) = &example.expected {
                let actual = format!("{stdout}{stderr}");
                if normalise(&actual) != normalise(expected) {
                    problems.push(format!("{} printed something else than the README shows:\n{expected}", shown()));
                }
            }
            for (words, redirect) in simple_commands(&command) {
                if words[0] != "agents" {
                    continue;
                }
                match resolve(&cli, &words[1..]) {
                    Ok(invocation) => {
                        for problem in check_effects(&env, &invocation) {
                            problems.push(format!("{at}: {problem}"));
                        }
                    }
                    Err(error) => problems.push(format!("{at}: {error}")),
                }
                if let Some(file) = redirect {
                    let path = expand_home(&env, &file);
                    if std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
                        problems.push(format!("{at}: `> {file}` left no output in {}", path.display()));
                    }
                }
            }
        }
        if started_daemon {
            // Whatever the block did, leave no daemon behind.
            let _ = env.run(["daemon", "stop"]);
        }
    }
    for (index, used) in used_rewrites.iter().enumerate() {
        if !used {
            problems.push(format!("no README example contains `{}`: remove its rewrite", REWRITES[index].from));
        }
    }
    for (index, used) in used_skips.iter().enumerate() {
        if !used {
            problems.push(format!("no README example is `{}`: remove its skip", SKIPS[index].command));
        }
    }
    for (index, used) in used_fixtures.iter().enumerate() {
        if !used {
            let fixture = &FIXTURES[index];
            problems.push(format!(
                "no README block is under `{}` any more: remove its fixture ({})",
                fixture.heading, fixture.what
            ));
        }
    }
    assert!(ran >= 30, "only {ran} README commands ran: is the parser still finding the blocks?");
    assert!(problems.is_empty(), "README examples that do not hold:\n\n{}", problems.join("\n\n"));
}

/// An `agents ...` command line mentioned in documentation (or, with no words before it, a
/// flag on its own: `` `--frozen` ``).
struct Mention {
    at: String,
    words: Vec<String>,
    bare_flag: bool,
}

/// Every `agents ...` command in README.md and docs/*.md: in code spans (`` `agents ...` ``) and
/// in the lines of code blocks. `a|b` in a span means either; `[...]` marks an optional part.
fn mentions() -> Vec<Mention> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(&root).unwrap().display().to_string();
        // The language of the fenced block the line is in, if any.
        let mut block: Option<String> = None;
        for (index, line) in text.lines().enumerate() {
            let at = format!("{shown}:{}", index + 1);
            if let Some(lang) = line.trim_start().strip_prefix("```") {
                block = if block.is_some() { None } else { Some(lang.trim().to_owned()) };
                continue;
            }
            if let Some(lang) = &block {
                // Commands are `$ ` lines of a console block, or the lines of a shell block.
                let command = match lang.as_str() {
                    "console" => line.trim_start().strip_prefix("$ "),
                    "sh" | "bash" | "shell" | "" => Some(line.trim_start()),
                    _ => None,
                };
                for (words, _) in command.map(simple_commands).unwrap_or_default() {
                    if words[0] == "agents" {
                        found.push(Mention { at: at.clone(), words: words[1..].to_vec(), bare_flag: false });
                    }
                }
                continue;
            }
            for (span_index, span) in line.split('`').enumerate() {
                // Odd pieces are inside backticks.
                if span_index % 2 == 1
                    && let Some(rest) = span.strip_prefix("agents ")
                {
                    let words = rest
                        .split_whitespace()
                        .map(|w| w.trim_matches(['[', ']', '…']).to_owned())
                        .filter(|w| !w.is_empty())
                        .collect();
                    found.push(Mention { at: at.clone(), words, bare_flag: false });
                } else if span_index % 2 == 1
                    && let Some(flag) = span.split_whitespace().next().filter(|w| is_flag(w))
                {
                    found.push(Mention { at: at.clone(), words: vec![flag.to_owned()], bare_flag: true });
                }
            }
        }
    }
    found
}

/// `--name` or `-n`: a dash or two, then a lowercase name.
fn is_flag(word: &str) -> bool {
    let name = word.strip_prefix("--").or_else(|| word.strip_prefix('-')).unwrap_or_default();
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks one mention, every alternative of each `a|b` word; returns what the CLI lacks.
fn check_mention(cli: &Cli, words: &[String]) -> Vec<String> {
    if let Some(index) = words.iter().position(|w| w.contains('|')) {
        return words[index]
            .split('|')
            .flat_map(|alternative| {
                let mut one = words.to_vec();
                one[index] = alternative.to_owned();
                check_mention(cli, &one)
            })
            .collect();
    }
    match resolve(cli, words) {
        Ok(_) => vec![],
        Err(error) => vec![error],
    }
}

#[test]
fn every_documented_subcommand_and_flag_exists() {
    let env = TestEnv::new();
    let cli = Cli::read(&env, &[]);
    // The check itself must be able to fail.
    let words = |text: &str| text.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(check_mention(&cli, &words("install --target codex --offline x")), Vec::<String>::new());
    assert!(check_mention(&cli, &words("install --no-such-flag"))[0].contains("`--no-such-flag` is not an option"));
    assert!(check_mention(&cli, &words("registry frobnicate"))[0].contains("not a subcommand of `agents registry`"));
    assert_eq!(check_mention(&cli, &words("daemon start|run")), Vec::<String>::new());

    // A flag on its own must be one of some agents command, or of `cargo xtask` (whose flags
    // the README's contributing section names).
    let mut flags = std::collections::BTreeSet::new();
    cli.all_options(&mut flags);
    flags.extend(xtask_flags());
    assert!(flags.contains("--frozen") && flags.contains("--quick"), "{flags:?}");

    let mentions = mentions();
    assert!(mentions.len() >= 40, "only {} `agents` commands found in the docs", mentions.len());
    let problems: Vec<String> = mentions
        .iter()
        .flat_map(|m| {
            let problems = if m.bare_flag {
                let flag = &m.words[0];
                if flags.contains(flag) { vec![] } else { vec![format!("no agents command has `{flag}`")] }
            } else {
                check_mention(&cli, &m.words)
            };
            let shown = if m.bare_flag { m.words[0].clone() } else { format!("agents {}", m.words.join(" ")) };
            problems.into_iter().map(move |p| format!("{}: `{shown}`: {p}", m.at))
        })
        .collect();
    assert!(problems.is_empty(), "documented commands the CLI does not have:\n{}", problems.join("\n"));
}
