//! Text that came from a target (ids, server messages, versions) made safe to
//! print: a control character or line break in a target id must not add a row
//! to the table, a line to the Markdown, or an escape sequence to the terminal.
//! Every such character is shown as a visible escape (`\n`, `\u{1b}`), so what
//! the target said stays readable and no character is silently lost.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters shown escaped: C0/C1 controls, DEL, the Unicode line and
/// paragraph separators, and the bidirectional overrides and isolates (which
/// can make a line read differently from what it holds).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every hidden character escaped (`\n`, `\r`, `\t`, `\u{…}`) and
/// backslashes left as they are; borrowed when nothing needed escaping.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Multi-line text (a remediation, an error with its causes) as lines, each
/// line [`visible`]; `\r\n` and `\n` separate lines, nothing else does.
pub fn visible_lines(text: &str) -> Vec<String> {
    text.lines().map(|l| visible(l).into_owned()).collect()
}

/// Markdown inline text inside a table row: [`visible`], with the characters
/// that end a cell (`|`) or open HTML (`<`) escaped.
pub fn markdown_text(text: &str) -> String {
    visible(text).replace('|', "\\|").replace('<', "&lt;")
}

/// A Markdown code span holding `text` exactly (made [`visible`]): fenced
/// with one more backtick than the longest run inside it, padded when it
/// starts or ends with a backtick, `|` escaped (GFM splits table cells on it
/// even inside code spans).
pub fn markdown_code(text: &str) -> String {
    code_span(&visible(text).replace('|', "\\|"))
}

/// A code span outside a table (a heading): as [`markdown_code`], but `|`
/// kept as it is (there it ends nothing, and `\|` would show literally).
pub fn markdown_code_outside_table(text: &str) -> String {
    code_span(&visible(text))
}

fn code_span(shown: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in shown.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if shown.starts_with('`') || shown.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            visible("postgres://db:5432/app"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn controls_and_line_breaks_are_shown_not_kept() {
        assert_eq!(visible("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(visible("x\u{1b}[31my"), "x\\u{1b}[31my");
        assert_eq!(
            visible("a\u{2028}b\u{202e}c\u{7f}"),
            "a\\u{2028}b\\u{202e}c\\u{7f}"
        );
    }

    #[test]
    fn markdown_cells_cannot_be_closed_or_opened() {
        assert_eq!(markdown_text("a|b\n| x |"), "a\\|b\\n\\| x \\|");
        assert_eq!(markdown_text("<img src=x>"), "&lt;img src=x>");
    }

    #[test]
    fn headings_keep_pipes() {
        assert_eq!(markdown_code_outside_table("a|b\n"), "`a|b\\n`");
    }

    #[test]
    fn code_spans_outgrow_the_backticks_inside() {
        assert_eq!(markdown_code("db"), "`db`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`a``"), "``` `a`` ```");
        assert_eq!(markdown_code("a|b\n"), "`a\\|b\\n`");
    }
}
