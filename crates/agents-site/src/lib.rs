//! A registry's website: static pages a person reads, built from the registry's own tree.
//!
//! A short tour:
//! - [`build`] reads every index file of a [`Registry`] (a git registry at a commit) and writes
//!   into a directory: `index.html` (search over `search.json`, and the first packages listed so
//!   it is usable before that loads), `browse/N.html` (every package, by name), one
//!   `packages/NAME.html` per package, `search.json` (the summary `agents search` reads from a
//!   sparse registry) and `assets/`. Served beside the registry's tree, each version's raw bytes
//!   are a link away (`bodies/…`); sparse clients never ask for the site's files.
//! - Every string from the registry is the publisher's: text is escaped, bodies are Markdown
//!   rendered by pulldown-cmark and sanitised by ammonia (`html.rs`), and every page carries a
//!   strict Content-Security-Policy (our own script and stylesheet, `'self'` only).
//! - Incremental: `site-manifest.json` in the output keeps, per package page, the digest of
//!   what it was made from (this builder, `config.json`, the index file, the owners list); a
//!   page whose inputs did not change is not rendered again, and listing pages are written
//!   only when their bytes change.
//! - Bad input never stops the build: an index file that cannot be read, a body that does not
//!   verify, are listed in [`SiteReport::skipped`], and the rest is built.

mod html;
mod model;
mod output;
mod render;

use std::path::{Path, PathBuf};

use agents_format::{AgentName, IndexFile, Sha256};
use agents_registry::{Registry, Summary};

pub use output::MANIFEST_FILE;
pub use render::CONTENT_SECURITY_POLICY;

/// What a build did.
#[derive(Debug, Default)]
pub struct SiteReport {
    /// Packages listed (each with a page).
    pub packages: usize,
    /// Package pages rendered by this build.
    pub rendered: Vec<AgentName>,
    /// Package pages whose inputs had not changed, left as they were.
    pub kept: usize,
    /// Files of an earlier build removed (pages of packages gone or now skipped).
    pub removed: Vec<String>,
    /// Other files (home, browse pages, `search.json`, assets) written because they changed.
    pub written: Vec<String>,
    /// What could not be shown, and why.
    pub skipped: Vec<Skipped>,
}

/// Something of the registry the site leaves out (an index line, a package, a body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub what: String,
    pub why: String,
}

impl Skipped {
    fn new(what: String, why: &str) -> Skipped {
        Skipped { what, why: why.to_owned() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Registry(#[from] agents_registry::RegistryError),
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Builds the site of `registry` into `out` (created when missing), rendering only the package
/// pages whose inputs changed since the build that wrote `out`'s manifest.
pub fn build(registry: &Registry, out: &Path) -> Result<SiteReport, SiteError> {
    let mut report = SiteReport::default();
    let config_bytes = registry.read_raw("config.json")?.unwrap_or_default();
    let root = match agents_registry::signing::registry_root(&registry.config, &registry.name) {
        Ok(root) => root,
        Err(error) => {
            report.skipped.push(Skipped::new("the registry's root key".to_owned(), &error.to_string()));
            None
        }
    };
    let info = render::SiteInfo {
        id: registry.config.id.to_string(),
        description: registry.config.description.clone(),
        root: root.as_ref().map(|root| root.fingerprint.clone()),
        layout: registry.layout(),
    };
    let mut entries: Vec<(AgentName, Vec<u8>)> = Vec::new();
    registry.for_each_raw(|name, bytes| entries.push((name, bytes.to_vec())))?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);

    let dependents = dependents(registry, &entries);
    let mut site = output::Output::open(out)?;
    let generator = generator_digest();
    let context = model::Context { registry, root };
    let mut listed = Vec::new();
    let mut search = agents_registry::search_summary_header(registry);
    let mut pending = Vec::new();
    for (name, index_bytes) in &entries {
        let owners = match registry.owners_file(name) {
            Ok(owners) => owners,
            Err(error) => {
                report.skipped.push(Skipped::new(format!("the owners list of `{name}`"), &error.to_string()));
                None
            }
        };
        let required_by = dependents.get(name).cloned().unwrap_or_default();
        let digest = page_digest(&generator, &config_bytes, index_bytes, owners.as_deref(), &required_by);
        if site.is_current(name, &digest) {
            site.keep(name, &mut report);
            report.kept += 1;
        } else {
            pending.push((name, index_bytes, owners, digest, required_by));
        }
        if let Some(summary) = Summary::of(name, &IndexFile::parse(&String::from_utf8_lossy(index_bytes))) {
            listed.push(render::Listed {
                name: summary.name,
                version: summary.version,
                description: summary.description,
                kind: summary.kind,
            });
        }
        if let Some(line) = agents_registry::search_summary_line(name, index_bytes) {
            search.push_str(&line);
            search.push('\n');
        }
    }
    render_pages(&context, &info, &mut site, pending, &mut report)?;
    // A package whose page could not be made is not listed: its link would lead nowhere.
    listed.retain(|item| site.has_page(&item.name));
    report.packages = listed.len();
    write_listings(&info, &mut site, &listed, &search, &mut report)?;
    site.finish(&mut report)?;
    Ok(report)
}

/// How many packages are read, then rendered on every core, at a time (bounding memory).
const BATCH: usize = 256;

type Pending<'a> = (&'a AgentName, &'a Vec<u8>, Option<Vec<u8>>, Sha256, Vec<AgentName>);

fn render_pages(
    context: &model::Context<'_>,
    info: &render::SiteInfo,
    site: &mut output::Output,
    pending: Vec<Pending<'_>>,
    report: &mut SiteReport,
) -> Result<(), SiteError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for batch in pending.chunks(BATCH) {
        let mut loaded = Vec::new();
        for (name, index_bytes, owners, digest, required_by) in batch {
            let mut skipped = Vec::new();
            let package = model::load(context, name, index_bytes, owners.as_deref(), &mut skipped);
            report.skipped.extend(skipped.iter().cloned());
            if let Some(mut package) = package {
                package.dependents = required_by.clone();
                loaded.push((package, *digest, skipped));
            }
        }
        let chunk = loaded.len().div_ceil(threads).max(1);
        let pages: Vec<Vec<String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = loaded
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|(p, ..)| render::package(info, p)).collect()))
                .collect();
            handles.into_iter().map(|handle| handle.join().expect("rendering a page does not panic")).collect()
        });
        for ((package, digest, skipped), page) in loaded.iter().zip(pages.into_iter().flatten()) {
            site.write_page(&package.name, *digest, skipped, page.as_bytes())?;
            report.rendered.push(package.name.clone());
        }
    }
    Ok(())
}

/// How many packages one browse page lists.
const BROWSE_PAGE: usize = 500;

fn write_listings(
    info: &render::SiteInfo,
    site: &mut output::Output,
    listed: &[render::Listed],
    search: &str,
    report: &mut SiteReport,
) -> Result<(), SiteError> {
    let pages = listed.len().div_ceil(BROWSE_PAGE);
    let first = &listed[..listed.len().min(render::HOME_LISTED)];
    site.write_file("index.html", render::home(info, first, listed.len(), pages).as_bytes(), report)?;
    for (number, part) in listed.chunks(BROWSE_PAGE).enumerate() {
        let page = render::browse(info, part, number + 1, pages);
        site.write_file(&format!("browse/{}.html", number + 1), page.as_bytes(), report)?;
    }
    site.write_file(agents_registry::SEARCH_SUMMARY_PATH, search.as_bytes(), report)?;
    site.write_file("assets/site.css", output::CSS.as_bytes(), report)?;
    site.write_file("assets/site.js", output::JS.as_bytes(), report)?;
    Ok(())
}

/// A digest of this builder: its version and the sources that decide what a page holds, so a
/// new builder renders every page again.
fn generator_digest() -> Sha256 {
    let sources = [
        env!("CARGO_PKG_VERSION"),
        include_str!("html.rs"),
        include_str!("model.rs"),
        include_str!("render.rs"),
        include_str!("lib.rs"),
    ];
    Sha256::of(sources.join("\0").as_bytes())
}

/// For each package, the packages of this registry whose newest version (as the listing shows
/// it) requires it, sorted: a page names its dependents, so they are among its inputs.
fn dependents(
    registry: &Registry,
    entries: &[(AgentName, Vec<u8>)],
) -> std::collections::BTreeMap<AgentName, Vec<AgentName>> {
    let mut dependents: std::collections::BTreeMap<AgentName, Vec<AgentName>> = Default::default();
    for (name, bytes) in entries {
        let index = IndexFile::parse(&String::from_utf8_lossy(bytes));
        let Some(summary) = Summary::of(name, &index) else { continue };
        let Some(record) = index.find(&summary.version) else { continue };
        for requirement in &record.requires {
            let here = requirement.registry.as_ref().is_none_or(|id| *id == registry.config.id);
            if here && requirement.name != *name {
                dependents.entry(requirement.name.clone()).or_default().push(name.clone());
            }
        }
    }
    for names in dependents.values_mut() {
        names.sort();
        names.dedup();
    }
    dependents
}

/// The digest of a package page's inputs.
fn page_digest(
    generator: &Sha256,
    config: &[u8],
    index: &[u8],
    owners: Option<&[u8]>,
    dependents: &[AgentName],
) -> Sha256 {
    let mut input = Vec::with_capacity(config.len() + index.len() + 128);
    let dependents = dependents.iter().map(AgentName::as_str).collect::<Vec<_>>().join("\n");
    for part in [generator.as_bytes().as_slice(), config, index, owners.unwrap_or(b"\0none"), dependents.as_bytes()] {
        input.extend_from_slice(&(part.len() as u64).to_le_bytes());
        input.extend_from_slice(part);
    }
    Sha256::of(&input)
}

/// Bodies that try every way we know to run script, load something or reach another site
/// from a page: the tests render them and check that nothing of the kind survives.
#[doc(hidden)]
pub const HOSTILE_BODIES: &[&str] = &[
    "<script>window.__hostile = 'script';</script>",
    "<img src=x onerror=\"window.__hostile = 'img'\">",
    "<svg onload=\"window.__hostile = 'svg'\"><script>window.__hostile = 'svg-script'</script></svg>",
    "[click](javascript:window.__hostile='link')",
    "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19ob3N0aWxlPTE8L3NjcmlwdD4=)",
    "<a href=\"JaVaScRiPt:window.__hostile='case'\">x</a>",
    "<a href=\"&#106;avascript:window.__hostile='entity'\">x</a>",
    "<iframe srcdoc=\"<script>parent.__hostile='iframe'</script>\"></iframe>",
    "<form action=\"https://evil.example/\"><input name=q><button>go</button></form>",
    "<style>body { background: url(https://evil.example/track.png) }</style>",
    "<p style=\"background:url(https://evil.example/x)\">styled</p>",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
    "<base href=\"https://evil.example/\">",
    "<object data=\"https://evil.example/x.swf\"></object><embed src=\"https://evil.example/y\">",
    "![tracker](https://evil.example/pixel.png)",
    "<details open ontoggle=\"window.__hostile='details'\"><summary>s</summary></details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__hostile='mxss'\">",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__hostile='noscript'>\"></noscript>",
    "<a id=\"search\" name=\"results\">clobbering the page's own ids</a>",
    "Trojan source: `access = \"user\u{202E} \u{2066}// admin\u{2069}\u{2066}\"` and bidi \u{202E}reversed\u{202C} text",
];
