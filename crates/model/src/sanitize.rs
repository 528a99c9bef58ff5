//! Untrusted strings (command lines, DNS names, certificate subjects) are
//! data. These helpers make them safe for each place they are shown.

/// Removes terminal control sequences (ESC [ ... final byte, OSC ... BEL/ST)
/// and other C0/C1 controls; tabs and newlines become visible escapes so a
/// value cannot break a table row.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape_sequence(&mut chars),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            // Bidi overrides can reorder what a reader sees.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            // CSI: parameters and intermediates, then one final byte @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        Some(']') | Some('P') | Some('_') | Some('^') => {
            chars.next();
            // OSC/DCS/APC/PM: up to BEL or ST (ESC \)
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// Guards a CSV cell against spreadsheet formula injection: a cell that a
/// spreadsheet would evaluate gets a leading apostrophe.
pub fn for_csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '|' | '%') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn for_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_loses_escape_sequences() {
        let evil = "cmd.exe /c \u{1b}[2J\u{1b}]0;pwned\u{7}echo\u{1b}[31mred\r\nnext\u{202e}";
        assert_eq!(for_terminal(evil), "cmd.exe /c echored\\r\\nnext");
    }

    #[test]
    fn csv_cells_cannot_start_a_formula() {
        assert_eq!(for_csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(for_csv_cell("-2+3"), "'-2+3");
        assert_eq!(for_csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(for_csv_cell("powershell.exe"), "powershell.exe");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            for_html("<script>\"a\"&'b'"),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;"
        );
    }
}
