//! Hidden Unicode: characters that change how a prompt reads without being visible.
//!
//! Agent files are prompts, so a bidi override or a run of tag characters can smuggle
//! instructions past a reviewer. We report them wherever a file is linted, published or installed.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenKind {
    /// Reorders text on screen (U+202A..U+202E, U+2066..U+2069, marks).
    Bidi,
    /// Takes no space (zero-width space, joiners, word joiner, a BOM after the start).
    ZeroWidth,
    /// Unicode tag characters U+E0000..U+E007F, which can spell out invisible ASCII.
    Tag,
}

impl HiddenKind {
    pub fn describe(self) -> &'static str {
        match self {
            HiddenKind::Bidi => "bidirectional control",
            HiddenKind::ZeroWidth => "zero-width character",
            HiddenKind::Tag => "tag character",
        }
    }
}

/// Classifies `c`, or `None` when it is visible (or ordinary whitespace).
pub fn classify(c: char) -> Option<HiddenKind> {
    match c {
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => {
            Some(HiddenKind::Bidi)
        }
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' => Some(HiddenKind::ZeroWidth),
        '\u{E0000}'..='\u{E007F}' => Some(HiddenKind::Tag),
        _ => None,
    }
}

/// Every hidden character in `text`, with its position. A byte-order mark at the very start is not
/// reported here (the agent-file lint reports it separately).
pub fn find_hidden(text: &str) -> Vec<HiddenChar> {
    let mut found = Vec::new();
    for (line_index, line) in text.split('\n').enumerate() {
        for (column_index, character) in line.chars().enumerate() {
            if line_index == 0 && column_index == 0 && character == '\u{FEFF}' {
                continue;
            }
            if let Some(kind) = classify(character) {
                found.push(HiddenChar { character, line: line_index + 1, column: column_index + 1, kind });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
