//! The pages as HTML: one shell (a strict Content-Security-Policy, our own stylesheet and
//! script, relative links only), the home page, the browse pages and a package's page. Every
//! string from the registry goes through `html::escape` or `html::markdown`; nothing here
//! reads the registry.

use std::fmt::Write as _;

use agents_format::{AgentFile, AgentName, IndexRecord, Kind, Target};

use crate::html::{escape, markdown};
use crate::model::{File, Package, Signer};

/// The policy every page carries (a meta tag: a static host sets no headers): our own script,
/// stylesheet and `search.json` from the same site, nothing else, no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

/// How many packages the home page lists before its search index has loaded.
pub(crate) const HOME_LISTED: usize = 100;

/// One package in a list: what `search.json` also holds.
pub(crate) struct Listed {
    pub(crate) name: AgentName,
    pub(crate) version: semver::Version,
    pub(crate) description: Option<String>,
    pub(crate) kind: Kind,
}

/// The registry-wide facts the pages show.
pub(crate) struct SiteInfo {
    pub(crate) id: String,
    pub(crate) description: Option<String>,
    /// The fingerprint of the registry's root key, when it signs.
    pub(crate) root: Option<String>,
    /// Where the registry's tree keeps bodies, for the raw-bytes links.
    pub(crate) layout: agents_format::Layout,
}

/// A whole page: `root` is the relative path from the page to the site's root (`""` or
/// `"../"`), `title` is already escaped.
fn shell(root: &str, title: &str, main: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"{root}assets/site.css\">\n\
         <script src=\"{root}assets/site.js\" defer></script>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\n\
         <header class=\"top\"><a href=\"{root}index.html\">Package registry</a></header>\n\
         <main id=\"main\">\n{main}</main>\n\
         <footer><p>A static site built by <code>agents registry site</code> from the registry's own tree.</p></footer>\n\
         </body>\n</html>\n"
    )
}

fn list_item(out: &mut String, root: &str, listed: &Listed) {
    let name = listed.name.as_str();
    let _ = write!(
        out,
        "<li><a href=\"{root}packages/{name}.html\">{name}</a> <span class=\"meta\">{} {}</span>",
        listed.kind.as_str(),
        escape(&listed.version.to_string())
    );
    if let Some(description) = &listed.description {
        let _ = write!(out, "<p>{}</p>", escape(description));
    }
    out.push_str("</li>\n");
}

/// The home page: the registry, a search box that works once `search.json` has loaded, and the
/// first packages by name with links to every browse page, so it is usable without the index.
pub(crate) fn home(info: &SiteInfo, first: &[Listed], total: usize, browse_pages: usize) -> String {
    let mut main = format!("<h1>Registry <code>{}</code></h1>\n", escape(&info.id));
    if let Some(description) = &info.description {
        let _ = writeln!(main, "<p class=\"lead\">{}</p>", escape(description));
    }
    let _ = writeln!(
        main,
        "<p>Add it with <code class=\"site-url\">agents registry add NAME sparse+URL-OF-THIS-SITE</code>, then \
         <code>agents install PACKAGE</code>.</p>"
    );
    if let Some(root) = &info.root {
        let _ =
            writeln!(main, "<p>Every version is signed; the registry's root key is <code>{}</code>.</p>", escape(root));
    }
    main.push_str(
        "<div role=\"search\" class=\"search\">\n<label for=\"search\">Search packages</label>\n\
         <input id=\"search\" type=\"search\" autocomplete=\"off\" spellcheck=\"false\" \
         aria-describedby=\"search-status\">\n\
         <p id=\"search-status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <noscript><p>Search needs JavaScript; every package is listed on the pages below.</p></noscript>\n\
         <ol id=\"results\" class=\"packages\" aria-label=\"Search results\" hidden></ol>\n</div>\n",
    );
    let _ = writeln!(main, "<section id=\"listing\" aria-labelledby=\"listing-title\">");
    let _ = writeln!(main, "<h2 id=\"listing-title\">Packages ({total})</h2>\n<ol class=\"packages\">");
    for listed in first {
        list_item(&mut main, "", listed);
    }
    main.push_str("</ol>\n");
    browse_links(&mut main, "", browse_pages, None);
    main.push_str("</section>\n");
    shell("", &format!("Registry {}", escape(&info.id)), &main)
}

fn browse_links(out: &mut String, root: &str, pages: usize, current: Option<usize>) {
    if pages == 0 {
        return;
    }
    out.push_str("<nav aria-label=\"All packages\"><p>All packages, by name:</p><ul class=\"pages\">");
    for page in 1..=pages {
        if Some(page) == current {
            let _ = write!(out, "<li><a href=\"{root}browse/{page}.html\" aria-current=\"page\">{page}</a></li>");
        } else {
            let _ = write!(out, "<li><a href=\"{root}browse/{page}.html\">{page}</a></li>");
        }
    }
    out.push_str("</ul></nav>\n");
}

/// Browse page `page` (from 1) of `pages`, listing `listed`.
pub(crate) fn browse(info: &SiteInfo, listed: &[Listed], page: usize, pages: usize) -> String {
    let mut main = format!("<h1>Packages, page {page} of {pages}</h1>\n<ol class=\"packages\">\n");
    for item in listed {
        list_item(&mut main, "../", item);
    }
    main.push_str("</ol>\n");
    browse_links(&mut main, "../", pages, Some(page));
    shell("../", &format!("Packages, page {page}: registry {}", escape(&info.id)), &main)
}

/// A package's page.
pub(crate) fn package(info: &SiteInfo, package: &Package) -> String {
    let name = package.name.as_str();
    let shown = package.shown.as_ref();
    let description = shown.and_then(|(record, _)| record.description.as_deref());
    let mut main = format!("<h1>{name} <span class=\"meta\">{}</span></h1>\n", package.kind.as_str());
    if let Some(description) = description {
        let _ = writeln!(main, "<p class=\"lead\">{}</p>", escape(description));
    }
    install(&mut main, name);
    if let Some((record, files)) = shown {
        match files {
            Ok(files) => {
                readme(&mut main, record, files);
                if package.kind == Kind::Bundle {
                    // A bundle is only its requirements (below): no file, nothing converted.
                } else {
                    if !package.kind.is_agent() {
                        file_list(&mut main, record, files);
                    }
                    tools(&mut main, &package.name, package.kind, files);
                }
            }
            Err(why) => {
                let _ = writeln!(
                    main,
                    "<section aria-labelledby=\"readme\"><h2 id=\"readme\">About</h2>\
                     <p class=\"problem\">The files of version {} cannot be shown: {}</p></section>",
                    escape(&record.version.to_string()),
                    escape(why)
                );
            }
        }
    }
    main.push_str(&dependencies(package));
    versions(&mut main, info, package);
    owners(&mut main, info, package);
    shell("../", &format!("{name}: registry {}", escape(&info.id)), &main)
}

/// What the shown version of `package` requires, and which packages of this registry require
/// it (their newest version), each a link to its page when it is in this registry.
fn dependencies(package: &Package) -> String {
    let requires = package.shown.as_ref().map_or(&[][..], |(record, _)| &record.requires[..]);
    if requires.is_empty() && package.dependents.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section aria-labelledby=\"dependencies\"><h2 id=\"dependencies\">Dependencies</h2>\n");
    if requires.is_empty() {
        out.push_str("<p>Requires nothing.</p>\n");
    } else {
        let version = package.shown.as_ref().map(|(record, _)| record.version.to_string()).unwrap_or_default();
        let _ = writeln!(out, "<h3>Version {} requires</h3>\n<ul class=\"requires\">", escape(&version));
        for requirement in requires {
            let name = requirement.name.as_str();
            let requirement_text = escape(&requirement.requirement.to_string());
            match &requirement.registry {
                None => {
                    let _ =
                        writeln!(out, "<li><a href=\"{name}.html\">{name}</a> <code>{requirement_text}</code></li>");
                }
                Some(registry) => {
                    let _ = writeln!(
                        out,
                        "<li>{name} <code>{requirement_text}</code> <span class=\"meta\">from registry {}</span></li>",
                        escape(registry.as_str())
                    );
                }
            }
        }
        out.push_str("</ul>\n");
    }
    if !package.dependents.is_empty() {
        out.push_str("<h3>Required by</h3>\n<ul class=\"dependents\">\n");
        for dependent in &package.dependents {
            let name = dependent.as_str();
            let _ = writeln!(out, "<li><a href=\"{name}.html\">{name}</a></li>");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}

fn install(out: &mut String, name: &str) {
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"install\"><h2 id=\"install\">Install</h2>\n\
         <div class=\"command\"><pre><code id=\"install-command\">agents install {name}</code></pre>\
         <button type=\"button\" class=\"copy\" data-copy=\"install-command\" hidden>Copy</button></div>\n\
         <p class=\"status\" id=\"copy-status\" role=\"status\" aria-live=\"polite\"></p></section>"
    );
}

/// The shown version's text, front matter left out, rendered from Markdown and sanitised.
fn readme(out: &mut String, record: &IndexRecord, files: &[File]) {
    let main_file = files.iter().find(|file| file.path == agents_format::SKILL_FILE).or(files.first());
    let Some(file) = main_file else { return };
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"readme\"><h2 id=\"readme\">About version {}</h2>",
        escape(&record.version.to_string())
    );
    match std::str::from_utf8(&file.bytes) {
        Ok(text) => {
            out.push_str("<div class=\"body\">\n");
            out.push_str(&markdown(strip_front_matter(text)));
            out.push_str("</div>\n");
        }
        Err(_) => {
            let _ = writeln!(out, "<p class=\"problem\">{} is not UTF-8 text.</p>", escape(&file.path));
        }
    }
    out.push_str("</section>\n");
}

/// `text` without its `---` front matter (what a tool shows as the prompt).
pub(crate) fn strip_front_matter(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else { return text };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "---" {
            return &rest[offset..];
        }
    }
    text
}

fn file_list(out: &mut String, record: &IndexRecord, files: &[File]) {
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"files\"><h2 id=\"files\">Files of version {}</h2>\n<div class=\"table\" role=\"region\" aria-label=\"Table of files\" tabindex=\"0\"><table>\n\
         <thead><tr><th scope=\"col\">File</th><th scope=\"col\">Bytes</th><th scope=\"col\">Runs</th></tr></thead><tbody>",
        escape(&record.version.to_string())
    );
    for file in files {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"../{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            file.raw,
            escape(&file.path),
            file.bytes.len(),
            if file.executable { "yes" } else { "no" }
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

/// What each tool gets: where the file goes and what its conversion cannot carry, as the CLI
/// reports it when it installs for that target.
fn tools(out: &mut String, name: &AgentName, kind: Kind, files: &[File]) {
    out.push_str(
        "<section aria-labelledby=\"tools\"><h2 id=\"tools\">What each tool gets</h2>\n<div class=\"table\" role=\"region\" aria-label=\"Table of tools\" tabindex=\"0\"><table>\n<thead><tr>\
         <th scope=\"col\">Tool</th><th scope=\"col\">Installed at</th><th scope=\"col\">Not carried over</th>\
         </tr></thead><tbody>\n",
    );
    for target in Target::ALL {
        let (path, notes) = tool_row(target, name, kind, files);
        let notes = if notes.is_empty() {
            "nothing: the tool gets all of it".to_owned()
        } else {
            format!("<ul>{}</ul>", notes.iter().map(|note| format!("<li>{}</li>", escape(note))).collect::<String>())
        };
        let path = path.map_or_else(|| "no file".to_owned(), |path| format!("<code>{}</code>", escape(&path)));
        let _ = writeln!(out, "<tr><th scope=\"row\">{}</th><td>{path}</td><td>{notes}</td></tr>", tool_label(target));
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn tool_label(target: Target) -> &'static str {
    match target {
        Target::ClaudeCode => "Claude Code",
        Target::OpenCode => "OpenCode",
        Target::Copilot => "GitHub Copilot",
        Target::Cursor => "Cursor",
        Target::Gemini => "Gemini CLI",
        Target::Codex => "Codex",
    }
}

/// Where `target` gets the package (project scope) and what its conversion names as lost.
fn tool_row(target: Target, name: &AgentName, kind: Kind, files: &[File]) -> (Option<String>, Vec<String>) {
    let bytes = files.first().map_or(&[][..], |file| &file.bytes[..]);
    match kind {
        Kind::Skill => {
            let dir = if target == Target::ClaudeCode { ".claude/skills" } else { ".agents/skills" };
            (Some(format!("{dir}/{name}/")), Vec::new())
        }
        Kind::Command => match target.convert_command(name, bytes) {
            Ok(converted) => (target.command_project_path(name), converted.unmapped),
            Err(why) => (None, vec![why]),
        },
        Kind::Agent => match AgentFile::parse(bytes) {
            Ok(file) => (Some(target.project_path(name)), target.convert(&file, bytes).unmapped),
            Err(error) => (None, vec![format!("the file cannot be read: {error}")]),
        },
        Kind::Bundle => (None, Vec::new()),
        Kind::Plugin if target == Target::ClaudeCode => (Some(format!(".claude/agents-plugins/{name}/")), Vec::new()),
        Kind::Plugin => {
            (None, vec!["a plugin is installed for Claude Code; other tools get its MCP servers".to_owned()])
        }
    }
}

fn versions(out: &mut String, info: &SiteInfo, package: &Package) {
    out.push_str(
        "<section aria-labelledby=\"versions\"><h2 id=\"versions\">Versions</h2>\n<div class=\"table\" role=\"region\" aria-label=\"Table of versions\" tabindex=\"0\"><table>\n<thead><tr>\
         <th scope=\"col\">Version</th><th scope=\"col\">Published</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Signed by</th><th scope=\"col\">Raw bytes</th></tr></thead><tbody>\n",
    );
    for version in &package.versions {
        let record = &version.record;
        let published = if agents_format::is_valid_utc(&record.published) {
            format!("<time datetime=\"{0}\">{1}</time>", record.published, &record.published[..10])
        } else {
            escape(&record.published)
        };
        let mut status =
            if record.yanked { "<strong class=\"yanked\">yanked</strong>" } else { "available" }.to_owned();
        if let Some(note) = &version.yank_note {
            let _ = write!(status, " <span class=\"problem\">({})</span>", escape(note));
        }
        let signer = match &version.signer {
            Signer::Unsigned => "not signed (the registry does not sign)".to_owned(),
            Signer::Signed(fingerprint) => format!("<code>{}</code>", escape(fingerprint)),
            Signer::Refused(why) => format!("<span class=\"problem\">refused by clients: {}</span>", escape(why)),
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{published}</td><td>{status}</td><td>{signer}</td><td>{}</td></tr>",
            escape(&record.version.to_string()),
            raw_links(info.layout, record, package.kind)
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

/// Links to every file of `record` where the registry tree serves it.
fn raw_links(layout: agents_format::Layout, record: &IndexRecord, kind: Kind) -> String {
    if record.is_package() {
        let links: Vec<String> = record
            .files
            .iter()
            .map(|file| {
                format!(
                    "<a href=\"../{}\">{}</a>",
                    layout.body_path(kind, &file.sha256),
                    escape(&file.path.to_string())
                )
            })
            .collect();
        links.join(", ")
    } else {
        format!("<a href=\"../{}\">{}</a>", layout.body_path(Kind::Agent, &record.sha256), record.name.file_name())
    }
}

fn owners(out: &mut String, info: &SiteInfo, package: &Package) {
    let owners = &package.owners;
    out.push_str("<section aria-labelledby=\"owners\"><h2 id=\"owners\">Owners</h2>\n");
    if let Some(problem) = &owners.problem {
        let _ = writeln!(out, "<p class=\"problem\">The owners list cannot be read: {}</p>", escape(problem));
    } else if owners.emails.is_empty() && owners.key_fingerprints.is_empty() {
        out.push_str("<p>No owners list: anyone who can push to the registry may publish.</p>\n");
    }
    if !owners.emails.is_empty() {
        out.push_str("<p>Who may publish:</p><ul>");
        for email in &owners.emails {
            let _ = write!(out, "<li>{}</li>", escape(email));
        }
        out.push_str("</ul>\n");
    }
    if !owners.key_fingerprints.is_empty() {
        out.push_str("<p>The keys whose signatures make a version:</p><ul>");
        for key in &owners.key_fingerprints {
            let _ = write!(out, "<li><code>{}</code></li>", escape(key));
        }
        out.push_str("</ul>\n");
        if let Some(root) = &info.root {
            let _ = writeln!(out, "<p>Under the registry's root key <code>{}</code>.</p>", escape(root));
        }
    }
    out.push_str("</section>\n");
}
