//! Turning publisher-supplied text into HTML that stays text: escaping for names, descriptions
//! and every other string, and Markdown rendered by pulldown-cmark then sanitised by ammonia.

use std::collections::HashSet;
use std::fmt::Write as _;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// `text` escaped for HTML text and for a quoted attribute value, with every hidden character
/// (bidi controls, zero-width and tag characters) shown as `[U+XXXX]`, so a name or description
/// cannot reorder or hide what is around it on screen.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if agents_format::classify_hidden(c).is_some() || (c.is_control() && c != '\n' && c != '\t') => {
                let _ = write!(out, "[U+{:04X}]", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Renders a body's Markdown to HTML that holds no script, event handler, `javascript:` or
/// `data:` URL, iframe, form, style, remote resource or hidden character (shown as
/// `[U+XXXX]`): pulldown-cmark renders (raw HTML passes
/// through it), then ammonia keeps only an allowlist of tags and attributes, links only to
/// `http`, `https` and `mailto` (no relative URL, so nothing points into the site), and no
/// image or other element that would load anything. Headings move two levels down (a body's
/// `#` is an `h3`), under the page's own `h1` and `h2`.
pub(crate) fn markdown(body: &str) -> String {
    let parser =
        Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| match event {
            Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                Event::Start(Tag::Heading { level: demote(level), id, classes, attrs })
            }
            Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
            other => other,
        });
    let mut rendered = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut rendered, parser);
    show_hidden(sanitiser().clean(&rendered).to_string())
}

/// `html` with every hidden character (bidi controls, zero-width and tag characters) shown as
/// `[U+XXXX]`, so a body cannot make its text or code read otherwise than it is (the
/// replacement holds no markup character, so the HTML stays as sanitised).
fn show_hidden(html: String) -> String {
    if !html.chars().any(|c| agents_format::classify_hidden(c).is_some()) {
        return html;
    }
    let mut out = String::with_capacity(html.len() + 16);
    for c in html.chars() {
        if agents_format::classify_hidden(c).is_some() {
            let _ = write!(out, "[U+{:04X}]", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The one sanitiser every body goes through (built once per thread; building it is cheap next
/// to cleaning, but not free).
fn sanitiser() -> &'static ammonia::Builder<'static> {
    static BUILDER: std::sync::OnceLock<ammonia::Builder<'static>> = std::sync::OnceLock::new();
    BUILDER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "a",
            "abbr",
            "b",
            "blockquote",
            "br",
            "code",
            "dd",
            "del",
            "details",
            "dl",
            "dt",
            "em",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "i",
            "ins",
            "kbd",
            "li",
            "ol",
            "p",
            "pre",
            "q",
            "s",
            "samp",
            "small",
            "strong",
            "sub",
            "summary",
            "sup",
            "table",
            "tbody",
            "td",
            "th",
            "thead",
            "tr",
            "ul",
        ]
        .into_iter()
        .collect();
        let mut builder = ammonia::Builder::default();
        builder
            .tags(tags)
            // Their contents are code or markup, never text a reader should see.
            .clean_content_tags(
                ["script", "style", "svg", "math", "iframe", "object", "template"].into_iter().collect(),
            )
            .tag_attributes(
                [("a", ["href"].into_iter().collect()), ("td", ["align"].into_iter().collect())].into_iter().collect(),
            )
            .generic_attributes(HashSet::new())
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("nofollow noopener noreferrer"));
        builder
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What no rendered body may hold, whatever its author wrote (lowercase).
    const FORBIDDEN: [&str; 14] = [
        "<script",
        "<iframe",
        "<form",
        "<svg",
        "<img",
        "<style",
        "<link",
        "<meta",
        "<base",
        "<object",
        "<embed",
        "javascript:",
        "data:",
        " on",
    ];

    fn check_clean(input: &str) {
        let html = markdown(input).to_lowercase();
        for bad in FORBIDDEN {
            assert!(!html.contains(bad), "{bad:?} survived in {html:?} from {input:?}");
        }
    }

    #[test]
    fn hostile_bodies_stay_text() {
        for input in crate::HOSTILE_BODIES {
            check_clean(input);
        }
    }

    #[test]
    fn markdown_still_renders() {
        let html = markdown("# Title\n\nSome *emphasis* and [a link](https://example.com).\n\n```\ncode\n```\n");
        assert!(html.contains("<h3>Title</h3>"), "{html}");
        assert!(html.contains("<em>emphasis</em>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.com\" rel=\"nofollow noopener noreferrer\">a link</a>"),
            "{html}"
        );
        assert!(html.contains("<pre><code>code\n</code></pre>"), "{html}");
    }

    #[test]
    fn bodies_show_hidden_characters() {
        let html = markdown("if x \u{202E}} else {\u{2066}\n\n`a\u{200B}b`\n");
        assert!(html.contains("x [U+202E]} else {[U+2066]"), "{html}");
        assert!(html.contains("<code>a[U+200B]b</code>"), "{html}");
    }

    #[test]
    fn escape_shows_hidden_characters() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(escape("abc\u{202E}fed"), "abc[U+202E]fed");
        assert_eq!(escape("zero\u{200B}width"), "zero[U+200B]width");
        assert_eq!(escape("bell\u{7}"), "bell[U+0007]");
    }
}
