//! An opened registry: its config and a snapshot of its tree, with verified reads.

use agents_format::{
    AgentFile, AgentName, IndexFile, IndexLine, IndexRecord, InvalidLine, Kind, Layout, MAX_AGENT_FILE_LEN,
    MAX_CONFIG_LEN, MAX_INDEX_FILE_LEN, RegistryConfig, Sha256, select,
};

use crate::error::{GitContext, RegistryError, Result};
use crate::source::Source;
use crate::summary::{self, Summary};

/// The local name of the built-in registry.
pub const BUILTIN_NAME: &str = "builtin";

/// A registry, opened at one snapshot.
pub struct Registry {
    /// The name the user knows it by (`builtin`, `team`).
    pub name: String,
    /// Where it comes from (a URL or path; `builtin` for the embedded one).
    pub url: String,
    pub config: RegistryConfig,
    pub(crate) source: Source,
    /// Where this registry's search summary is kept (set for cached clones).
    summary_file: Option<std::path::PathBuf>,
    /// Its root key, verified once: every version's check needs it (see [`Registry::root`]).
    root:
        std::sync::OnceLock<std::result::Result<Option<crate::signing::RegistryRoot>, crate::signing::SignatureError>>,
}

impl Registry {
    /// The registry compiled into this binary.
    pub fn builtin() -> Registry {
        let source = Source::Builtin;
        let config =
            read_config(&source, BUILTIN_NAME).expect("the built-in registry has a valid config.json (tidy checks it)");
        Registry {
            name: BUILTIN_NAME.to_owned(),
            url: BUILTIN_NAME.to_owned(),
            config,
            source,
            summary_file: None,
            root: Default::default(),
        }
    }

    pub(crate) fn from_source(name: String, url: String, source: Source) -> Result<Registry> {
        let config = read_config(&source, &url)?;
        if config.id.as_str() == agents_format::BUILTIN_REGISTRY_ID {
            return Err(RegistryError::NotARegistry {
                url,
                reason: "its config.json claims the id `builtin`, which is reserved for the built-in registry"
                    .to_owned(),
            });
        }
        Ok(Registry { name, url, config, source, summary_file: None, root: Default::default() })
    }

    /// The root key its signed `config.json` names (`None` for a registry that does not sign),
    /// verified against the config's own signature on first use and remembered: checking each
    /// version of an install against it would otherwise verify the same signature again.
    pub fn root(&self) -> std::result::Result<Option<&crate::signing::RegistryRoot>, crate::signing::SignatureError> {
        self.root
            .get_or_init(|| crate::signing::registry_root(&self.config, &self.name))
            .as_ref()
            .map(Option::as_ref)
            .map_err(Clone::clone)
    }

    /// The git registry at `path` (a bare repository or a clone), read at its `HEAD` commit
    /// straight from the object database, as a registry's CI reads its own repository.
    pub fn open_repository(path: &std::path::Path) -> Result<Registry> {
        let repository =
            git2::Repository::open(path).context(|| format!("{} is not a git repository", path.display()))?;
        let (tree, commit) = {
            let commit = repository
                .head()
                .and_then(|head| head.peel_to_commit())
                .context(|| format!("{} has no HEAD commit", path.display()))?;
            (commit.tree_id(), commit.id())
        };
        let url = path.display().to_string();
        Registry::from_source(url.clone(), url, Source::Git { repository, tree, commit, trees: Default::default() })
    }

    /// The registry whose tree was exported into the directory `path` (`git archive | tar -x`:
    /// what a static host serves), read file by file without following links.
    pub fn open_directory(path: &std::path::Path) -> Result<Registry> {
        let url = path.display().to_string();
        Registry::from_source(url.clone(), url, Source::Directory(path.to_owned()))
    }

    /// The registry at `path`: a git repository (bare or a clone, at `HEAD`), else an exported
    /// tree (a directory with a `config.json`).
    pub fn open_path(path: &std::path::Path) -> Result<Registry> {
        if git2::Repository::open(path).is_err() && path.join("config.json").is_file() {
            return Registry::open_directory(path);
        }
        Registry::open_repository(path)
    }

    /// Calls `visit` with every agent and the raw bytes of its index file, as [`Registry::for_each`]
    /// finds them (a caller that keeps a digest of each file needs the exact bytes).
    pub fn for_each_raw(&self, visit: impl FnMut(AgentName, &[u8])) -> Result<()> {
        self.refuse_listing_sparse()?;
        self.source.for_each_index(self.layout(), visit)
    }

    /// Keeps this registry's search summary in `file` (derived data, in the cache).
    pub(crate) fn with_summary_file(mut self, file: std::path::PathBuf) -> Registry {
        self.summary_file = Some(file);
        self
    }

    /// The index file of `name`, or `None` when the registry has no such agent. A file that
    /// records one version twice is refused (`RegistryError::Duplicate`): the second record is
    /// how a published version's bytes would be replaced.
    pub fn index_file(&self, name: &AgentName) -> Result<Option<IndexFile>> {
        let Some(bytes) = self.read_first(self.layout().index_lookups(name))? else { return Ok(None) };
        let text = String::from_utf8_lossy(&bytes);
        let mut index = IndexFile::parse(&text);
        // A record filed under another agent's path is not this agent's version.
        for (number, line) in index.lines.iter_mut().enumerate() {
            if let IndexLine::Record(record) = line
                && &record.name != name
            {
                let text = record.to_line();
                index.invalid.push(InvalidLine {
                    line: number + 1,
                    message: format!("record for `{}` in the index file of `{name}`", record.name),
                    text: text.clone(),
                });
                *line = IndexLine::Unknown(text);
            }
        }
        index.check_unique(name).map_err(|source| RegistryError::Duplicate { registry: self.name.clone(), source })?;
        self.apply_signed_yanks(name, &mut index);
        Ok(Some(index))
    }

    /// In a signed registry, a version is yanked only when an owner (or the root) signed its yank
    /// (§13 of the format): the plain flag is replaced by what the signed statements say. Costs
    /// nothing for a file with no yank flag or statement.
    fn apply_signed_yanks(&self, name: &AgentName, index: &mut IndexFile) {
        let mut records: Vec<&mut IndexRecord> = index
            .lines
            .iter_mut()
            .filter_map(|line| match line {
                IndexLine::Record(record) if record.yanked || record.yank.is_some() => Some(record),
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return;
        }
        // A config whose signature is invalid is refused where versions are accepted.
        let Ok(Some(root)) = self.root() else { return };
        let owners = match crate::signing::owner_keys(self, root, name) {
            Ok(Some((_, keys))) => keys,
            _ => Vec::new(),
        };
        crate::signing::apply_signed_yanks(&self.name, &self.config.id, root, &owners, &mut records);
    }

    /// The body of a published version, verified against its record's length and checksum.
    pub fn body(&self, record: &IndexRecord) -> Result<Vec<u8>> {
        let missing = || RegistryError::MissingBody {
            registry: self.name.clone(),
            name: record.name.clone(),
            version: record.version.clone(),
        };
        let agent = || format!("{}@{}", record.name, record.version);
        // The same limit as publish, checked on the record before the body is read at all.
        if record.length > MAX_AGENT_FILE_LEN as u64 {
            return Err(RegistryError::TooLarge {
                what: format!("{} from registry `{}`", agent(), self.name),
                len: record.length,
                limit: MAX_AGENT_FILE_LEN as u64,
            });
        }
        let bytes = match self.read_body(Kind::Agent, &record.sha256, MAX_AGENT_FILE_LEN) {
            Err(RegistryError::TooLarge { len, limit, .. }) => {
                return Err(RegistryError::TooLarge {
                    what: format!("the body of {} from registry `{}`", agent(), self.name),
                    len,
                    limit,
                });
            }
            read => read?.ok_or_else(missing)?,
        };
        let actual = Sha256::of(&bytes);
        if actual != record.sha256 || bytes.len() as u64 != record.length {
            return Err(RegistryError::ChecksumMismatch {
                registry: self.name.clone(),
                agent: agent(),
                expected: record.sha256.to_hex(),
                actual: actual.to_hex(),
            });
        }
        // The name Claude Code reads is the front matter's: a body claiming another agent's name
        // would put two files with one name in an agents directory.
        if let Ok(file) = AgentFile::parse(&bytes)
            && file.name != record.name
        {
            return Err(RegistryError::NameMismatch {
                registry: self.name.clone(),
                name: record.name.clone(),
                version: record.version.clone(),
                declared: file.name,
            });
        }
        Ok(bytes)
    }

    /// Where this registry keeps its bodies (its config's `schema`).
    pub fn layout(&self) -> Layout {
        self.config.layout
    }

    /// The body of a version of `kind` (an agent's file or one file of a package) whose bytes
    /// hash to `sha256`, from where the registry's layout puts it (unverified: callers check the
    /// checksum). `None` when it is in none of the layout's places.
    pub(crate) fn read_body(&self, kind: Kind, sha256: &Sha256, limit: usize) -> Result<Option<Vec<u8>>> {
        for path in self.layout().lookups(kind, sha256) {
            if let Some(bytes) = self.source.read(&path, limit)? {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    /// The paths a sparse prefetch fetches for `record`: each body at the layout's first place.
    fn body_paths_to_fetch(&self, record: &IndexRecord) -> Vec<String> {
        let layout = self.layout();
        if record.is_package() {
            record.files.iter().map(|file| layout.body_path(record.kind, &file.sha256)).collect()
        } else if record.length <= MAX_AGENT_FILE_LEN as u64 {
            vec![layout.body_path(Kind::Agent, &record.sha256)]
        } else {
            Vec::new()
        }
    }

    /// Calls `visit` with every agent and its index file, one at a time, in index-path order.
    /// Index files not at the layout's path for a valid agent name are skipped (a registry check
    /// reports them). Nothing is kept between calls, so memory stays flat however large the
    /// registry.
    pub fn for_each(&self, mut visit: impl FnMut(AgentName, IndexFile)) -> Result<()> {
        self.refuse_listing_sparse()?;
        self.source.for_each_index(self.layout(), |name, bytes| {
            visit(name, IndexFile::parse(&String::from_utf8_lossy(bytes)));
        })
    }

    /// Every agent in the registry with its index file, sorted by name.
    pub fn all(&self) -> Result<Vec<(AgentName, IndexFile)>> {
        let mut all = Vec::new();
        self.for_each(|name, index| all.push((name, index)))?;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.dedup_by(|a, b| a.0 == b.0);
        Ok(all)
    }

    /// Every agent's name, latest version and description, sorted by name: what `search` shows.
    pub fn summaries(&self) -> Result<Vec<Summary>> {
        self.search(&[])
    }

    /// The agents whose name or description holds every one of `words` (lowercase), sorted by
    /// name. A cached clone keeps a summary file beside it, so this reads one file, brought up
    /// to date from the index files that changed since it was written; otherwise every index
    /// file is read. A sparse registry reads the summary its CI publishes (`search.json`).
    pub fn search(&self, words: &[String]) -> Result<Vec<Summary>> {
        let mut hits = match (&self.source, &self.summary_file) {
            (Source::Sparse(sparse), _) => crate::sparse_summary::summaries(self, sparse)?,
            (Source::Git { repository, tree, .. }, Some(file)) => {
                return summary::search(repository, self.layout(), *tree, file, words);
            }
            (Source::Git { repository, tree, .. }, None) => match summary::index_tree(repository, *tree)? {
                Some(index) => summary::all(repository, self.layout(), index)?,
                None => Vec::new(),
            },
            (Source::Builtin | Source::Directory(_), _) => {
                let mut summaries = Vec::new();
                self.for_each(|name, index| summaries.extend(Summary::of(&name, &index)))?;
                summaries
            }
        };
        hits.retain(|summary| summary.matches(words));
        hits.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(hits)
    }

    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    /// The owners list of `name` (its raw bytes), where the registry's layout has it; `None` when
    /// the agent has none.
    pub fn owners_file(&self, name: &AgentName) -> Result<Option<Vec<u8>>> {
        self.read_first(self.layout().owners_lookups(name))
    }

    /// The first of `paths` that holds a file, up to the index-file limit.
    fn read_first(&self, paths: Vec<String>) -> Result<Option<Vec<u8>>> {
        for path in paths {
            if let Some(bytes) = self.source.read(&path, MAX_INDEX_FILE_LEN)? {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    /// Reads any file of the registry tree (for checks and tools), up to the index-file limit.
    pub fn read_raw(&self, path: &str) -> Result<Option<Vec<u8>>> {
        self.source.read(path, MAX_INDEX_FILE_LEN)
    }

    /// Whether this registry is read over HTTP (`sparse+https://…`).
    pub fn is_sparse(&self) -> bool {
        matches!(self.source, Source::Sparse(_))
    }

    /// For a sparse registry, fetches ahead, in parallel, what resolving `wanted` will read:
    /// each agent's index file, then the body of the version it will likely install (the one
    /// with the locked checksum, else the highest non-yanked match of the requirement). Errors
    /// are left for the reads that follow to report. Git and built-in registries need nothing.
    pub fn prefetch(&self, wanted: &[(AgentName, Option<Sha256>, Option<semver::VersionReq>)]) {
        let Source::Sparse(sparse) = &self.source else { return };
        let layout = self.layout();
        sparse.read_many(wanted.iter().map(|(name, ..)| layout.index_path(name)).collect(), MAX_INDEX_FILE_LEN);
        let mut bodies = Vec::new();
        for (name, locked, requirement) in wanted {
            let Ok(Some(index)) = self.index_file(name) else { continue };
            let record = locked
                .and_then(|sha256| index.records().find(|record| record.sha256 == sha256))
                .or_else(|| select(index.records(), requirement.as_ref().unwrap_or(&semver::VersionReq::STAR)));
            if let Some(record) = record {
                bodies.extend(self.body_paths_to_fetch(record));
            }
        }
        bodies.sort();
        bodies.dedup();
        sparse.read_many(bodies, agents_format::MAX_PACKAGE_FILE_LEN as usize);
    }

    /// For a sparse registry, revalidates every index file its cache holds with conditional
    /// requests (the daemon's interval fetch: a 304 for each unchanged file), then fetches the
    /// bodies of their versions that the cache lacks, so that a reconcile reading the cache only
    /// finds whatever version a pulled lockfile pins, as it would in a fetched git clone. Bodies
    /// are fetched once ever (content-addressed). The first error (a rewritten record, an
    /// unreachable host) is returned after all were tried.
    pub fn revalidate(&self) -> Result<()> {
        let Source::Sparse(sparse) = &self.source else { return Ok(()) };
        // The cache may hold index files at another layout's paths (the registry migrated since
        // they were fetched): each is revalidated at the path the registry's layout gives its name.
        let layout = self.layout();
        let mut paths: Vec<String> = sparse
            .cached_index_paths()
            .iter()
            .filter_map(|path| path.rsplit('/').next()?.parse::<AgentName>().ok())
            .map(|name| layout.index_path(&name))
            .collect();
        paths.sort();
        paths.dedup();
        let mut errors = sparse.read_many(paths.clone(), MAX_INDEX_FILE_LEN);
        let mut bodies = Vec::new();
        for path in &paths {
            let Ok(Some(bytes)) = sparse.read(path, MAX_INDEX_FILE_LEN) else { continue };
            let index = IndexFile::parse(&String::from_utf8_lossy(&bytes));
            bodies.extend(
                index.records().flat_map(|record| self.body_paths_to_fetch(record)).filter(|body| !sparse.holds(body)),
            );
        }
        bodies.sort();
        bodies.dedup();
        errors.extend(sparse.read_many(bodies, agents_format::MAX_PACKAGE_FILE_LEN as usize));
        match errors.into_iter().next() {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }

    fn refuse_listing_sparse(&self) -> Result<()> {
        match &self.source {
            Source::Sparse(_) => {
                Err(RegistryError::SearchUnsupported { registry: self.name.clone(), url: self.url.clone() })
            }
            _ => Ok(()),
        }
    }

    /// The commit this snapshot shows, for git registries.
    pub fn commit(&self) -> Option<String> {
        self.source.commit().map(|oid| oid.to_string())
    }
}

fn read_config(source: &Source, url: &str) -> Result<RegistryConfig> {
    let bytes = source.read("config.json", MAX_CONFIG_LEN)?.ok_or_else(|| RegistryError::NotARegistry {
        url: url.to_owned(),
        reason: "it has no config.json at its root".to_owned(),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| RegistryError::NotARegistry {
        url: url.to_owned(),
        reason: "config.json is not UTF-8".to_owned(),
    })?;
    RegistryConfig::parse(&text).map_err(|source| RegistryError::Config { url: url.to_owned(), source })
}
