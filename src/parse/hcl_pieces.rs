//! Cuts a large HCL file into runs of whole top-level blocks and attributes,
//! so only the runs that may hold a credential go through tree-sitter.
//!
//! tree-sitter-hcl needs about 100 bytes of memory per byte of input and
//! parses about 1.5 MB/s here: a generated 10 MB `.tf` would take seconds
//! and more than a gigabyte for the one key in it. A cut is made only at the
//! start of a line outside any bracket, string, heredoc or comment. When the
//! lexing below is fooled, a piece fails to parse and the caller falls back
//! to the whole file's text scan, as for any syntax error.

use std::ops::Range;

/// Byte ranges covering `src` in order, each ending where a top-level line
/// starts, none shorter than `min_len / 2` except the last.
///
/// Where a piece ends depends on the text around the cut, not on its
/// distance from the file's start (past the minimum): a cut is made at a
/// top-level line whose first bytes hash to a chosen residue, or once a
/// piece reaches `2 * min_len`. So an edit that adds or removes bytes moves
/// the cuts of its own piece only, and an editor's next version shares
/// every other piece with the last (the editor server reuses their parses).
pub fn pieces(src: &str, min_len: usize) -> Vec<Range<usize>> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in top_level_line_starts(bytes) {
        let len = cut - start;
        if len >= 2 * min_len || (len >= min_len / 2 && chosen(bytes, cut)) {
            out.push(start..cut);
            start = cut;
        }
    }
    if start < src.len() || out.is_empty() {
        out.push(start..src.len());
    }
    out
}

/// Whether the line at `at` is a cut point: about one top-level line in
/// eight, by an FNV-1a hash of its first 64 bytes.
fn chosen(b: &[u8], at: usize) -> bool {
    let end = b.len().min(at + 64);
    let line = b.get(at..end).unwrap_or_default();
    let line = line.split(|&c| c == b'\n').next().unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    for &c in line {
        h = (h ^ u32::from(c)).wrapping_mul(0x0100_0193);
    }
    // The high bits: FNV's low bits depend on the low bits of the input only.
    h >> 29 == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Code; the count of open `{`, `[`, `(`.
    Code(usize),
    /// Inside a quoted string.
    Str,
}

/// Offsets of line starts where nothing is open.
fn top_level_line_starts(b: &[u8]) -> Vec<usize> {
    let mut cuts = Vec::new();
    // Interpolations nest strings in code in strings: `"${f("}")}"`.
    let mut stack = vec![Context::Code(0)];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let top = stack.last().copied().unwrap_or(Context::Code(0));
        match top {
            Context::Str => match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                    stack.push(Context::Code(1));
                    i += 1;
                }
                // A string never spans lines in HCL: an unclosed one ends
                // here rather than swallowing the file.
                b'\n' => {
                    stack.pop();
                    continue;
                }
                _ => {}
            },
            Context::Code(depth) => match c {
                b'"' => stack.push(Context::Str),
                b'#' => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i = find(b, i + 2, b"*/").map_or(b.len(), |e| e + 1);
                }
                b'<' if b.get(i + 1) == Some(&b'<') => {
                    if let Some(end) = heredoc_end(b, i) {
                        i = end;
                        continue;
                    }
                    i += 1;
                }
                b'{' | b'[' | b'(' => set_depth(&mut stack, depth + 1),
                b'}' | b']' | b')' => {
                    if depth <= 1 && stack.len() > 1 {
                        // The `}` closing an interpolation: back in the string.
                        stack.pop();
                    } else {
                        set_depth(&mut stack, depth.saturating_sub(1));
                    }
                }
                b'\n' if depth == 0 && stack.len() == 1 => cuts.push(i + 1),
                _ => {}
            },
        }
        i += 1;
    }
    cuts.retain(|&c| c < b.len());
    cuts
}

fn set_depth(stack: &mut [Context], depth: usize) {
    if let Some(top) = stack.last_mut() {
        *top = Context::Code(depth);
    }
}

/// Index of the `\n` ending the line at `i` (or the last byte).
fn line_end(b: &[u8], i: usize) -> usize {
    memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |e| i + e) - 1
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|p| from + p)
}

/// For `<<EOF` / `<<-EOF` at `i`: the offset just after the closing marker's
/// line, so the newline that ends it is seen as code.
fn heredoc_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 2;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    let start = j;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    let marker = &b[start..j];
    if marker.is_empty() || !matches!(b.get(j), Some(b'\n') | Some(b'\r')) {
        return None;
    }
    let mut line = memchr::memchr(b'\n', &b[j..])? + j + 1;
    while line < b.len() {
        let end = memchr::memchr(b'\n', &b[line..]).map_or(b.len(), |e| line + e);
        let text = &b[line..end];
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.trim_ascii() == marker {
            return Some(end);
        }
        line = end + 1;
    }
    Some(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cuts(src: &str) -> Vec<usize> {
        top_level_line_starts(src.as_bytes())
    }

    fn line_of(src: &str, offset: usize) -> usize {
        src[..offset].matches('\n').count() + 1
    }

    #[test]
    fn cuts_between_blocks_and_attributes_only() {
        let src = "a = 1\nresource \"x\" \"y\" {\n  b = [\n    1,\n  ]\n}\nc = { d = 2 }\n";
        let lines: Vec<usize> = cuts(src).into_iter().map(|c| line_of(src, c)).collect();
        assert_eq!(lines, [2, 7]);
    }

    #[test]
    fn strings_heredocs_and_comments_hide_brackets() {
        let src = concat!(
            "a = \"{ [ (\"\n",                         // 1
            "b = \"${f(\"}\")} ${g({x = \"{\"})}\"\n", // 2
            "c = <<-EOT\n",                            // 3
            "resource \"fake\" \"inside\" {\n",        // 4
            "  {\n",                                   // 5
            "  EOT\n",                                 // 6
            "# { not code\n",                          // 7
            "// ( nor this\n",                         // 8
            "/* [ or\n",                               // 9
            "this } */\n",                             // 10
            "locals {\n",                              // 11
            "  s = \"}\"\n",                           // 12
            "}\n",                                     // 13
            "z = 1\n",                                 // 14
        );
        let lines: Vec<usize> = cuts(src).into_iter().map(|c| line_of(src, c)).collect();
        assert_eq!(lines, [2, 3, 7, 8, 9, 11, 14]);
    }

    /// An edit moves the cuts of its own piece only: the pieces after it
    /// are the same text, shifted by what the edit added.
    #[test]
    fn an_edit_leaves_the_other_pieces_alone() {
        let mut src = String::new();
        for i in 0..3000 {
            src.push_str(&format!("resource \"r\" \"n{i}\" {{\n  v = {i}\n}}\n\n"));
        }
        let at = src.find("\"n1500\"").expect("block");
        let edited = format!(
            "{}# note, and a longer one\n{}",
            &src[..at - 11],
            &src[at - 11..]
        );
        let texts = |s: &str| -> Vec<String> {
            pieces(s, 4096)
                .into_iter()
                .map(|r| s[r].to_string())
                .collect()
        };
        let (before, after) = (texts(&src), texts(&edited));
        let shared = after.iter().filter(|p| before.contains(p)).count();
        assert!(before.len() > 10, "{}", before.len());
        assert!(shared + 2 >= after.len(), "{shared} of {}", after.len());
    }

    #[test]
    fn pieces_cover_the_file_in_order() {
        let src = "a = 1\nb = 2\nc = 3\nd = 4\n";
        let p = pieces(src, 10);
        assert_eq!(p.first().map(|r| r.start), Some(0));
        assert_eq!(p.last().map(|r| r.end), Some(src.len()));
        assert!(p.windows(2).all(|w| w[0].end == w[1].start), "{p:?}");
        assert!(
            p[..p.len() - 1]
                .iter()
                .all(|r| r.len() >= 5 && r.len() <= 20 + 6),
            "{p:?}"
        );
        let whole = 0..src.len();
        assert_eq!(pieces(src, 1000), vec![whole]);
        let empty = 0..0;
        assert_eq!(pieces("", 10), vec![empty]);
    }

    #[test]
    fn an_unclosed_bracket_leaves_one_piece() {
        let src = "a = [\nb = 2\nc = 3\n";
        let whole = 0..src.len();
        assert_eq!(pieces(src, 1), vec![whole]);
    }

    #[test]
    fn an_unterminated_heredoc_or_comment_ends_the_cuts() {
        assert!(cuts("a = <<EOT\nb = 1\nc = 2\n").is_empty());
        assert!(cuts("/* a\nb = 1\nc = 2\n").is_empty());
    }

    // scripts/genkey.py --account 123456789012 --count 3 --seed 777 --secret
    const K1: &str = "AKIARZPUZDIKH44XRVC4";
    const S1: &str = "XKpojQnaRKInANq1eSsjJ+m5vb4GBXlWw9iYONym";
    const K2: &str = "AKIARZPUZDIKFHCA6QRA";
    const S2: &str = "vp+Xp+Z2Z4RTggVK3tK/YbJ/T9urPkKIM2u4vl7j";
    const K3: &str = "AKIARZPUZDIKKGYMIGS5";

    /// A generated module of about 400 KiB with keys in a provider block, a
    /// heredoc holding INI, and a pair of top-level attributes far apart.
    fn large_module() -> String {
        let mut s = String::new();
        for i in 0..1500 {
            s.push_str(&format!(
                "# bucket {i} {{ not a block\nresource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"acme-${{var.env}}-{i}\"\n  tags   = {{ Team = \"platform\", Note = \"}} ]\" }}\n  policy = <<-EOT\nresource \"fake\" \"x\" {{\n    {{ \"Version\": \"2012-10-17\" }}\n  EOT\n}}\n\n"
            ));
            match i {
                100 => s.push_str(&format!(
                    "provider \"aws\" {{\n  access_key = \"{K1}\"\n  secret_key = \"{S1}\"\n}}\n\n"
                )),
                700 => s.push_str(&format!(
                    "resource \"local_file\" \"creds\" {{\n  content = <<EOF\n[default]\naws_access_key_id = {K2}\naws_secret_access_key = {S2}\nEOF\n}}\n\n"
                )),
                1200 => s.push_str(&format!("ci_access_key_id = \"{K3}\"\n")),
                1201 => s.push_str("ci_secret_access_key = var.ci_secret\n"),
                _ => {}
            }
        }
        s
    }

    type Shape = (String, Range<usize>, Vec<String>, String, bool);

    fn shape(v: &crate::parse::Value) -> Shape {
        (
            v.text.clone(),
            v.span.clone(),
            v.context.clone(),
            v.name.clone(),
            v.verbatim,
        )
    }

    #[test]
    fn a_large_file_parsed_in_pieces_agrees_with_one_parse() {
        let src = large_module();
        assert!(src.len() > 300 * 1024, "{}", src.len());
        let whole = crate::parse::hcl::parse_whole(&src).expect("whole parse");
        let worth = |t: &str| crate::prefilter::may_contain_credentials(t.as_bytes());
        let piecewise = crate::parse::hcl::parse_pieces_worth(&src, &worth, None)
            .expect("piecewise")
            .values;
        assert!(
            piecewise.len() * 4 < whole.len(),
            "most pieces are skipped: {} of {}",
            piecewise.len(),
            whole.len()
        );
        let whole_shapes: std::collections::HashMap<Shape, u32> =
            whole.iter().map(|v| (shape(v), v.group)).collect();
        for v in &piecewise {
            assert!(whole_shapes.contains_key(&shape(v)), "{:?}", shape(v));
        }
        // Every value that names or holds a credential is there.
        for v in whole.iter().filter(|v| {
            [K1, S1, K2, K3].iter().any(|k| v.text.contains(k)) || v.name.contains("secret")
        }) {
            assert!(
                piecewise.iter().any(|p| shape(p) == shape(v)),
                "missing {:?}",
                shape(v)
            );
        }
        // Siblings stay siblings, strangers stay strangers.
        for a in &piecewise {
            for b in &piecewise {
                let (ga, gb) = (whole_shapes[&shape(a)], whole_shapes[&shape(b)]);
                assert_eq!(
                    a.group == b.group,
                    ga == gb,
                    "{:?} / {:?}",
                    shape(a),
                    shape(b)
                );
            }
        }
        let provider = piecewise.iter().find(|v| v.text == K1).expect("K1");
        assert_eq!(provider.context, ["provider", "aws", "access_key"]);
        assert_eq!(&src[provider.span.clone()], K1);
    }

    #[test]
    fn a_syntax_error_in_a_piece_with_a_key_fails_the_file_at_its_line() {
        let mut src = large_module();
        let at = src.len();
        src.push_str(&format!(
            "provider \"aws\" {{\n  access_key = \"{K1}\"\n  oops = = 1\n}}\n"
        ));
        let err = crate::parse::hcl::parse(&src).expect_err("syntax error");
        let offset = err.offset.expect("offset");
        assert!(offset >= at, "{offset} < {at}");
        let line = src[..offset].matches('\n').count() + 1;
        assert!(
            err.message.contains(&format!("line {line}")),
            "{}",
            err.message
        );
    }

    #[test]
    fn too_deep_a_piece_fails_at_its_file_line() {
        let mut src = large_module();
        let line = src.matches('\n').count() + 2;
        src.push_str(&format!(
            "locals {{\n  x = {}\"{K1}\"{}\n}}\n",
            "[".repeat(300),
            "]".repeat(300)
        ));
        let err = crate::parse::hcl::parse(&src).expect_err("too deep");
        assert!(err.message.contains("deeper"), "{}", err.message);
        assert!(
            err.message.contains(&format!("line {line}")),
            "{}",
            err.message
        );
    }
}
