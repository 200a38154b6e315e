//! Hidden Unicode: characters that change how a prompt reads without being visible.
//!
//! Agent files are prompts, so a bidi override, a run of tag characters or a string of variation
//! selectors can smuggle instructions past a reviewer. [`scan_hidden_unicode`] is the one gate every
//! caller (lint, publish, import, install, sync, the daemon) goes through: it scans exact bytes and
//! says `Clean`, `Found` or `Unscannable`, so a body that cannot be scanned is never mistaken for a
//! clean one. The character set is documented in `docs/registry-format.md`.

use std::fmt;

use crate::agent_file::MAX_AGENT_FILE_LEN;
use crate::package::FileMode;

/// The largest input [`scan_hidden_unicode`] scans. At least the body size limit, so every body that
/// can be published or installed can also be scanned; anything larger is `Unscannable`.
pub const MAX_HIDDEN_SCAN_LEN: usize = 4 * MAX_AGENT_FILE_LEN;

/// One hidden character found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenChar {
    pub character: char,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    pub kind: HiddenKind,
}

impl fmt::Display for HiddenChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hidden {} U+{:04X} at line {}, column {}",
            self.kind.describe(),
            u32::from(self.character),
            self.line,
            self.column
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenKind {
    /// Reorders text on screen (U+202A..U+202E, U+2066..U+2069, marks, U+206A..U+206F).
    Bidi,
    /// Takes no space (zero-width space, joiners, word joiner, a BOM after the start, the Mongolian
    /// vowel separator, the combining grapheme joiner).
    ZeroWidth,
    /// Unicode tag characters U+E0000..U+E007F, which can spell out invisible ASCII.
    Tag,
    /// Variation selectors (U+FE00..U+FE0F, U+E0100..U+E01EF, Mongolian U+180B..U+180D, U+180F):
    /// a run of them can encode arbitrary bytes after one visible character.
    VariationSelector,
    /// Invisible mathematical operators U+2061..U+2064 (function application, invisible times,
    /// separator, plus).
    InvisibleOperator,
    /// U+00AD soft hyphen, shown only at a line break.
    SoftHyphen,
    /// Characters that render as blank space while counting as letters: Hangul fillers (U+115F,
    /// U+1160, U+3164, U+FFA0), the Khmer inherent vowels U+17B4 and U+17B5, the braille blank
    /// U+2800.
    Filler,
    /// Other invisible format controls: interlinear annotation U+FFF9..U+FFFB, musical formatting
    /// U+1D173..U+1D17A, shorthand format controls U+1BCA0..U+1BCA3.
    Format,
    /// C0 controls other than tab, line feed and carriage return, DEL, and C1 controls
    /// (U+0080..U+009F): invisible in an editor, and on a terminal an escape sequence can hide or
    /// rewrite the text around it.
    Control,
}

impl HiddenKind {
    pub fn describe(self) -> &'static str {
        match self {
            HiddenKind::Bidi => "bidirectional control",
            HiddenKind::ZeroWidth => "zero-width character",
            HiddenKind::Tag => "tag character",
            HiddenKind::VariationSelector => "variation selector",
            HiddenKind::InvisibleOperator => "invisible operator",
            HiddenKind::SoftHyphen => "soft hyphen",
            HiddenKind::Filler => "blank filler character",
            HiddenKind::Format => "invisible format control",
            HiddenKind::Control => "control character",
        }
    }
}

/// Classifies `c`, or `None` when it is visible (or ordinary whitespace).
pub fn classify(c: char) -> Option<HiddenKind> {
    match c {
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{206A}'..='\u{206F}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => Some(HiddenKind::Bidi),
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' | '\u{034F}' => Some(HiddenKind::ZeroWidth),
        '\u{E0000}'..='\u{E007F}' => Some(HiddenKind::Tag),
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}' | '\u{180F}' => {
            Some(HiddenKind::VariationSelector)
        }
        '\u{2061}'..='\u{2064}' => Some(HiddenKind::InvisibleOperator),
        '\u{00AD}' => Some(HiddenKind::SoftHyphen),
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{17B4}' | '\u{17B5}' | '\u{2800}' => {
            Some(HiddenKind::Filler)
        }
        '\u{FFF9}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}' | '\u{1BCA0}'..='\u{1BCA3}' => Some(HiddenKind::Format),
        '\t' | '\n' | '\r' => None,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => Some(HiddenKind::Control),
        _ => None,
    }
}

/// Every hidden character in `text`, with its position. A byte-order mark at the very start is not
/// reported here (the agent-file lint reports it separately).
///
/// Emoji keep their ordinary spelling: one U+FE0E or U+FE0F right after a pictograph or a keycap
/// base (`⚠️`, `1️⃣`), and a zero-width joiner between two pictographs (`👩‍💻`), are how emoji
/// are written, not hidden text. A second selector in a row, or a joiner next to anything else,
/// is reported: a run of selectors is how bytes are smuggled after a visible character.
pub fn find_hidden(text: &str) -> Vec<HiddenChar> {
    let mut found = Vec::new();
    // Most agent files are plain printable ASCII: nothing to look at character by character.
    let plain = |text: &str| text.bytes().all(|b| matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r'));
    if plain(text) {
        return found;
    }
    for (line_index, line) in text.split('\n').enumerate() {
        if plain(line) {
            continue;
        }
        let characters: Vec<char> = line.chars().collect();
        for (column_index, &character) in characters.iter().enumerate() {
            if line_index == 0 && column_index == 0 && character == '\u{FEFF}' {
                continue;
            }
            let before = column_index.checked_sub(1).map(|i| characters[i]);
            let after = characters.get(column_index + 1).copied();
            if is_emoji_spelling(before, character, after) {
                continue;
            }
            if let Some(kind) = classify(character) {
                found.push(HiddenChar { character, line: line_index + 1, column: column_index + 1, kind });
            }
        }
    }
    found
}

/// Whether `character`, between `before` and `after`, is part of how an emoji is written.
fn is_emoji_spelling(before: Option<char>, character: char, after: Option<char>) -> bool {
    let pictograph =
        |c: char| matches!(c, '\u{00A9}' | '\u{00AE}' | '\u{203C}'..='\u{3299}' | '\u{1F000}'..='\u{1FAFF}');
    let keycap_base = |c: char| c.is_ascii_digit() || c == '#' || c == '*';
    match character {
        '\u{FE0E}' | '\u{FE0F}' => before.is_some_and(|b| pictograph(b) || keycap_base(b)),
        // A joiner between pictographs, or after one that carries its selector (`❤️‍🔥`).
        '\u{200D}' => {
            before.is_some_and(|b| pictograph(b) || b == '\u{FE0F}' || ('\u{1F3FB}'..='\u{1F3FF}').contains(&b))
                && after.is_some_and(pictograph)
        }
        _ => false,
    }
}

/// What [`scan_hidden_unicode`] found in some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiddenScan {
    /// Valid UTF-8 within the scan limit, with no hidden character.
    Clean,
    /// Valid UTF-8 within the scan limit, holding these hidden characters (never empty).
    Found(Vec<HiddenChar>),
    /// The bytes could not be scanned (not UTF-8, or over [`MAX_HIDDEN_SCAN_LEN`]). A deny policy
    /// must refuse these: what cannot be scanned cannot be shown to be clean.
    Unscannable { reason: String },
}

impl HiddenScan {
    /// Whether the bytes were scanned and hold no hidden character.
    pub fn is_clean(&self) -> bool {
        matches!(self, HiddenScan::Clean)
    }
}

impl fmt::Display for HiddenScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiddenScan::Clean => f.write_str("no hidden Unicode"),
            HiddenScan::Found(found) => {
                for (index, hidden) in found.iter().enumerate() {
                    if index > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{hidden}")?;
                }
                Ok(())
            }
            HiddenScan::Unscannable { reason } => write!(f, "cannot be scanned for hidden Unicode: {reason}"),
        }
    }
}

/// The one hidden-Unicode gate: scans exact bytes (a whole agent file, a skill file, a body from a
/// registry). A byte-order mark at the very start is not reported; one anywhere else is.
pub fn scan_hidden_unicode(bytes: &[u8]) -> HiddenScan {
    if bytes.len() > MAX_HIDDEN_SCAN_LEN {
        return HiddenScan::Unscannable {
            reason: format!("{} bytes, over the scan limit of {MAX_HIDDEN_SCAN_LEN} bytes", bytes.len()),
        };
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            return HiddenScan::Unscannable {
                reason: format!("not valid UTF-8 (invalid byte at offset {})", error.valid_up_to()),
            };
        }
    };
    let found = find_hidden(text);
    if found.is_empty() { HiddenScan::Clean } else { HiddenScan::Found(found) }
}

/// How many leading bytes decide whether a file is binary: git's rule (`buffer_is_binary`).
pub const BINARY_SNIFF_LEN: usize = 8000;

/// Whether `bytes` are binary by git's rule: a NUL byte in the first [`BINARY_SNIFF_LEN`]
/// bytes. It is the rule git uses to show "Binary files differ" instead of a diff, so what the
/// gate leaves unscanned is exactly what a reviewer sees as binary, never text that looks clean.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_SNIFF_LEN)].contains(&0)
}

/// Whether the file at `path` of a package is one a tool reads as instructions, and so is never
/// taken for binary: Markdown (`SKILL.md`, a command's `NAME.md`, a skill's references).
pub fn is_instructions(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.len() > 3 && name[name.len() - 3..].eq_ignore_ascii_case(".md")
}

/// What the hidden-Unicode gate makes of one file of a package. Only [`scan_package_file`]
/// builds one, and a caller must match both arms, so no file of a package reaches a registry or
/// a workspace without having been classified and, when it is text, scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileScan {
    /// Text (every Markdown file, and every file that is not binary), scanned. It must be UTF-8
    /// to be shown clean: Latin-1 text is `Unscannable`, which a deny policy refuses.
    Text(HiddenScan),
    /// Binary by git's rule ([`is_binary`]) and not Markdown: an image or an archive, which no
    /// tool reads as instructions. Not scanned, and not refused for being unscannable.
    Binary,
}

impl FileScan {
    /// Why a deny policy refuses the file: hidden characters found, or text that cannot be
    /// scanned. A binary file and clean text are not refused.
    pub fn denied(&self) -> Option<String> {
        match self {
            FileScan::Text(HiddenScan::Clean) | FileScan::Binary => None,
            FileScan::Text(found) => Some(found.to_string()),
        }
    }

    /// What a warning policy reports: hidden characters found in text (what cannot be scanned is
    /// not reported, as for agents).
    pub fn warning(&self) -> Option<String> {
        match self {
            FileScan::Text(found @ HiddenScan::Found(_)) => Some(found.to_string()),
            FileScan::Text(HiddenScan::Clean | HiddenScan::Unscannable { .. }) | FileScan::Binary => None,
        }
    }
}

/// The hidden-Unicode gate for a file of a package (a skill's file, a command's file), at
/// `path` in the package with `mode`: a binary file that is not Markdown and cannot run is left
/// unscanned; any other file is scanned by [`scan_hidden_unicode`]. A file that can run (its run
/// bit, or a `#!` line) is scanned whatever bytes it holds: a NUL does not stop a shell from
/// running the rest, bidi controls included, so it is text (and, when not UTF-8, unscannable,
/// which the deny policy refuses). An agent file is always scanned whole by
/// [`scan_hidden_unicode`] itself.
pub fn scan_package_file(path: &str, mode: FileMode, bytes: &[u8]) -> FileScan {
    let runnable = mode.is_executable() || bytes.starts_with(b"#!");
    if is_binary(bytes) && !is_instructions(path) && !runnable {
        return FileScan::Binary;
    }
    FileScan::Text(scan_hidden_unicode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_not_hidden_text_but_runs_of_selectors_are() {
        let kinds = |text: &str| find_hidden(text).into_iter().map(|h| h.character).collect::<Vec<_>>();
        assert_eq!(kinds("Warning \u{26A0}\u{FE0F} and keycap 1\u{FE0F}\u{20E3}"), Vec::<char>::new());
        assert_eq!(kinds("coder \u{1F469}\u{200D}\u{1F4BB} and \u{2764}\u{FE0F}\u{200D}\u{1F525}"), Vec::<char>::new());
        // A selector after a letter, a second selector in a row, a joiner between letters.
        assert_eq!(kinds("a\u{FE0F}"), ['\u{FE0F}']);
        assert_eq!(kinds("\u{26A0}\u{FE0F}\u{FE0F}"), ['\u{FE0F}']);
        assert_eq!(kinds("\u{26A0}\u{FE01}"), ['\u{FE01}']);
        assert_eq!(kinds("a\u{200D}b"), ['\u{200D}']);
        assert_eq!(kinds("\u{1F469}\u{200D}x"), ['\u{200D}']);
    }

    #[test]
    fn finds_each_kind_with_position() {
        let text = "plain\nab\u{202E}cd\u{200B}\n\u{E0041}";
        let found = find_hidden(text);
        let summary: Vec<_> = found.iter().map(|h| (h.line, h.column, h.kind)).collect();
        assert_eq!(summary, [(2, 3, HiddenKind::Bidi), (2, 6, HiddenKind::ZeroWidth), (3, 1, HiddenKind::Tag)]);
    }

    #[test]
    fn ordinary_text_is_clean() {
        assert!(find_hidden("\u{FEFF}caf\u{e9} \u{2014} na\u{ef}ve \u{FFFD}\ttab").is_empty());
    }

    /// One row per character (or range end) of each class: the class it must be reported as.
    #[test]
    fn every_class_is_detected() {
        use HiddenKind::*;
        let table: &[(char, HiddenKind)] = &[
            ('\u{202A}', Bidi),
            ('\u{202E}', Bidi),
            ('\u{2066}', Bidi),
            ('\u{2069}', Bidi),
            ('\u{200E}', Bidi),
            ('\u{200F}', Bidi),
            ('\u{061C}', Bidi),
            ('\u{206A}', Bidi),
            ('\u{206F}', Bidi),
            ('\u{200B}', ZeroWidth),
            ('\u{200C}', ZeroWidth),
            ('\u{200D}', ZeroWidth),
            ('\u{2060}', ZeroWidth),
            ('\u{180E}', ZeroWidth),
            ('\u{034F}', ZeroWidth),
            ('\u{FEFF}', ZeroWidth),
            ('\u{E0000}', Tag),
            ('\u{E0041}', Tag),
            ('\u{E007F}', Tag),
            ('\u{FE00}', VariationSelector),
            ('\u{FE0E}', VariationSelector),
            ('\u{FE0F}', VariationSelector),
            ('\u{E0100}', VariationSelector),
            ('\u{E01EF}', VariationSelector),
            ('\u{180B}', VariationSelector),
            ('\u{180D}', VariationSelector),
            ('\u{180F}', VariationSelector),
            ('\u{2061}', InvisibleOperator),
            ('\u{2062}', InvisibleOperator),
            ('\u{2063}', InvisibleOperator),
            ('\u{2064}', InvisibleOperator),
            ('\u{00AD}', SoftHyphen),
            ('\u{115F}', Filler),
            ('\u{1160}', Filler),
            ('\u{3164}', Filler),
            ('\u{FFA0}', Filler),
            ('\u{17B4}', Filler),
            ('\u{17B5}', Filler),
            ('\u{2800}', Filler),
            ('\u{FFF9}', Format),
            ('\u{FFFB}', Format),
            ('\u{1D173}', Format),
            ('\u{1D17A}', Format),
            ('\u{1BCA0}', Format),
            ('\u{1BCA3}', Format),
            ('\u{0}', Control),
            ('\u{1B}', Control),
            ('\u{7}', Control),
            ('\u{8}', Control),
            ('\u{C}', Control),
            ('\u{7F}', Control),
            ('\u{85}', Control),
            ('\u{9B}', Control),
            ('\u{9F}', Control),
        ];
        for &(character, kind) in table {
            let text = format!("---\nname: a\n---\nsay x{character}y\n");
            match scan_hidden_unicode(text.as_bytes()) {
                HiddenScan::Found(found) => {
                    assert_eq!(found.len(), 1, "U+{:04X}", u32::from(character));
                    assert_eq!(
                        (found[0].kind, found[0].line, found[0].column),
                        (kind, 4, 6),
                        "U+{:04X}",
                        u32::from(character)
                    );
                }
                other => panic!("U+{:04X} not found: {other:?}", u32::from(character)),
            }
        }
    }

    /// Neighbours of the hidden ranges stay visible, so ordinary text is not flagged.
    #[test]
    fn neighbours_are_clean() {
        for character in [
            '\u{00AC}',
            '\u{00AE}',
            '\u{2065}',
            '\u{2070}',
            '\u{FDFF}',
            '\u{FE10}',
            '\u{E0080}',
            '\u{E01F0}',
            '\u{3163}',
            '\u{3165}',
            '\u{1D172}',
            '\u{1D17B}',
            '\u{2801}',
            '\u{2014}',
            '\u{00A0}',
        ] {
            let text = format!("x{character}y");
            assert_eq!(scan_hidden_unicode(text.as_bytes()), HiddenScan::Clean, "U+{:04X}", u32::from(character));
        }
    }

    #[test]
    fn bom_only_at_the_start_is_allowed() {
        assert_eq!(scan_hidden_unicode("\u{FEFF}---\n".as_bytes()), HiddenScan::Clean);
        assert!(matches!(scan_hidden_unicode("a\u{FEFF}".as_bytes()), HiddenScan::Found(_)));
        assert!(matches!(scan_hidden_unicode("\n\u{FEFF}".as_bytes()), HiddenScan::Found(_)));
    }

    #[test]
    fn what_cannot_be_scanned_says_so() {
        let check = |bytes: &[u8], expected: &str| match scan_hidden_unicode(bytes) {
            HiddenScan::Unscannable { reason } => assert!(reason.contains(expected), "{reason}"),
            other => panic!("expected unscannable, got {other:?}"),
        };
        check(b"ok \xff then \xe2\x80\xae", "offset 3");
        check(&vec![b'a'; MAX_HIDDEN_SCAN_LEN + 1], "over the scan limit");
        // The largest installable body is always scannable.
        assert_eq!(scan_hidden_unicode(&vec![b'a'; MAX_AGENT_FILE_LEN]), HiddenScan::Clean);
        assert_eq!(scan_hidden_unicode(&vec![b'a'; MAX_HIDDEN_SCAN_LEN]), HiddenScan::Clean);
    }

    #[test]
    fn binary_by_git_rule_is_not_scanned_but_markdown_and_latin1_text_are() {
        // A PNG: its signature holds no NUL, the IHDR length right after it does.
        let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\xe2\x80\xae";
        assert_eq!(scan_package_file("assets/logo.png", FileMode::Regular, png), FileScan::Binary);
        assert_eq!(scan_package_file("assets/logo.png", FileMode::Regular, png).denied(), None);
        // A NUL past the first 8,000 bytes does not make text binary (git's rule).
        let mut late = vec![b'a'; BINARY_SNIFF_LEN];
        late.push(0);
        assert!(!is_binary(&late));
        assert!(
            scan_package_file("data.txt", FileMode::Regular, &late)
                .denied()
                .is_some_and(|why| why.contains("control character"))
        );
        // Markdown is never binary: a NUL in SKILL.md or a reference is scanned, and found.
        for path in ["SKILL.md", "references/guide.MD", "deploy.md"] {
            let scan = scan_package_file(path, FileMode::Regular, b"\0Steps \xe2\x80\xae.");
            assert!(scan.denied().is_some_and(|why| why.contains("control character")), "{path}: {scan:?}");
        }
        // Latin-1 text has no NUL: it is text, and cannot be shown clean.
        let latin1 = scan_package_file("notes.txt", FileMode::Regular, b"caf\xe9\n");
        assert!(latin1.denied().is_some_and(|why| why.contains("not valid UTF-8")), "{latin1:?}");
        assert_eq!(latin1.warning(), None);
        // A script with hidden Unicode is refused, and warned about.
        let script = scan_package_file("scripts/run.sh", FileMode::Regular, "echo \u{202E}hi\n".as_bytes());
        assert!(script.denied().is_some() && script.warning().is_some());
        assert_eq!(
            scan_package_file("scripts/run.sh", FileMode::Regular, b"echo hi\n"),
            FileScan::Text(HiddenScan::Clean)
        );
        // A file that can run is scanned whatever it holds: a NUL does not hide a bidi control
        // from the gate when the run bit or a `#!` line says a shell will read it.
        let sneaky: &[u8] = b"echo ok\0\necho \xe2\x80\xae hi\n";
        assert_eq!(scan_package_file("scripts/run", FileMode::Regular, sneaky), FileScan::Binary);
        assert!(scan_package_file("scripts/run", FileMode::Executable, sneaky).denied().is_some());
        let shebang: &[u8] = b"#!/bin/sh\0\necho \xe2\x80\xae hi\n";
        assert!(scan_package_file("scripts/run", FileMode::Regular, shebang).denied().is_some());
        // And one that is not UTF-8 cannot be shown clean.
        let latin = scan_package_file("scripts/run", FileMode::Executable, b"\0caf\xe9\n");
        assert!(latin.denied().is_some_and(|why| why.contains("not valid UTF-8")), "{latin:?}");
    }

    #[test]
    fn display_names_each_character() {
        let scan = scan_hidden_unicode("a\u{202E}b\u{00AD}".as_bytes());
        assert_eq!(
            scan.to_string(),
            "hidden bidirectional control U+202E at line 1, column 2; hidden soft hyphen U+00AD at line 1, column 4"
        );
    }
}
