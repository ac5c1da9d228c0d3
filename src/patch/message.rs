//! The text of a patch file and of the commit that carries it in a workspace.
//!
//! A patch file is a header (`Subject: ...`, a blank line, a few lines of why, a blank
//! line) followed by a unified diff. In a workspace the header becomes the commit message
//! (the subject line without `Subject: `), with two trailers that say where the commit
//! goes on export:
//!
//! ```text
//! Zend: bail out without setjmp/longjmp on WASI
//!
//! wasi-libc has no setjmp.h. ...
//!
//! Patch-Set: common
//! Patch-File: 0001-zend-bailout-without-setjmp.patch
//! ```

/// Trailer naming the patch set a commit belongs to (`common` or a runtime).
pub const SET_TRAILER: &str = "Patch-Set";
/// Trailer naming the file a commit was last exported to.
pub const FILE_TRAILER: &str = "Patch-File";

/// A patch file cut in two: the free-form header and the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchText<'a> {
    pub header: &'a str,
    pub diff: &'a str,
}

/// Splits a patch file at its first `diff --git` line (or `--- ` line followed by `+++ `).
pub fn split_patch(text: &str) -> PatchText<'_> {
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let starts_diff = line.starts_with("diff --git ")
            || (line.starts_with("--- ") && lines.peek().is_some_and(|n| n.starts_with("+++ ")));
        if starts_diff {
            return PatchText {
                header: &text[..offset],
                diff: &text[offset..],
            };
        }
        offset += line.len();
    }
    PatchText {
        header: text,
        diff: "",
    }
}

/// What a patch says about itself: its subject and the lines of why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub subject: String,
    /// Without trailing newline; empty when the patch has no body.
    pub body: String,
}

impl Description {
    /// Reads a patch file's header. A header without a `Subject:` line keeps all its text as
    /// the body, and the subject comes from `fallback_subject` (made from the file name).
    pub fn from_header(header: &str, fallback_subject: &str) -> Description {
        let mut lines = header.lines();
        let first = lines.next().unwrap_or_default();
        match first.strip_prefix("Subject:") {
            Some(subject) => Description {
                subject: subject.trim().to_string(),
                body: lines
                    .skip_while(|l| l.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim_end()
                    .to_string(),
            },
            None => Description {
                subject: fallback_subject.to_string(),
                body: header.trim().to_string(),
            },
        }
    }

    /// The header written before the diff: `Subject: S`, a blank line, the body and a blank
    /// line.
    pub fn to_header(&self) -> String {
        if self.body.is_empty() {
            format!("Subject: {}\n\n", self.subject)
        } else {
            format!("Subject: {}\n\n{}\n\n", self.subject, self.body)
        }
    }

    /// The commit message: subject, body, then the set and file trailers.
    pub fn to_message(&self, set: &str, file: &str) -> String {
        let mut message = format!("{}\n\n", self.subject);
        if !self.body.is_empty() {
            message.push_str(&self.body);
            message.push_str("\n\n");
        }
        message.push_str(&format!("{SET_TRAILER}: {set}\n{FILE_TRAILER}: {file}\n"));
        message
    }
}

/// A workspace commit's message, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMessage {
    pub description: Description,
    pub set: Option<String>,
    pub file: Option<String>,
}

fn trailer<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (name, value) = line.split_once(':')?;
    (name.trim().eq_ignore_ascii_case(key)).then(|| value.trim())
}

fn is_our_trailer(line: &str) -> bool {
    trailer(line, SET_TRAILER).is_some() || trailer(line, FILE_TRAILER).is_some()
}

/// Reads subject, body and the trailers of the message's last paragraph (other trailers,
/// such as `Signed-off-by`, stay in the body).
pub fn parse_message(message: &str) -> ParsedMessage {
    let lines: Vec<&str> = message.trim_end().lines().collect();
    // The last paragraph: lines after the last blank line.
    let last_start = lines
        .iter()
        .rposition(|l| l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let (mut set, mut file) = (None, None);
    let mut kept: Vec<&str> = lines[..last_start].to_vec();
    let last = &lines[last_start..];
    // The subject line itself is never a trailer paragraph.
    if last_start > 0 && last.iter().any(|l| is_our_trailer(l)) {
        for line in last {
            if let Some(value) = trailer(line, SET_TRAILER) {
                set = Some(value.to_string());
            } else if let Some(value) = trailer(line, FILE_TRAILER) {
                file = Some(value.to_string());
            } else {
                kept.push(line);
            }
        }
    } else {
        kept.extend_from_slice(last);
    }
    let mut rest = kept.into_iter();
    let subject = rest.next().unwrap_or_default().trim().to_string();
    let body = rest
        .skip_while(|l| l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string();
    ParsedMessage {
        description: Description { subject, body },
        set,
        file,
    }
}

/// `Zend: bail out without setjmp/longjmp` -> `zend-bail-out-without-setjmp-longjmp`.
pub fn slugify(subject: &str) -> String {
    let mut slug = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_string();
    const MAX: usize = 60;
    if slug.len() > MAX {
        let cut = slug[..MAX].rfind('-').unwrap_or(MAX);
        slug.truncate(cut);
    }
    if slug.is_empty() {
        "patch".to_string()
    } else {
        slug
    }
}

/// `0003-zend-resource-destructor-exact-type.patch` -> `zend-resource-destructor-exact-type`.
pub fn slug_of_file(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".patch")?;
    let (number, slug) = stem.split_once('-')?;
    (number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit()) && !slug.is_empty())
        .then_some(slug)
}

/// `NNNN-slug.patch`, numbered from 1.
pub fn file_name(number: usize, slug: &str) -> String {
    format!("{number:04}-{slug}.patch")
}

/// A subject for a header without one: the file name's slug, dashes as spaces.
pub fn subject_from_file(name: &str) -> String {
    slug_of_file(name)
        .unwrap_or(name.trim_end_matches(".patch"))
        .replace('-', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "Subject: Zend: bail out on WASI\n\nwasi-libc has no setjmp.h.\nSecond line.\n\ndiff --git a/Zend/zend.c b/Zend/zend.c\n--- a/Zend/zend.c\n+++ b/Zend/zend.c\n@@ -1 +1 @@\n-a\n+b\n";

    #[test]
    fn header_and_message_round_trip() {
        let text = split_patch(PATCH);
        assert!(text.diff.starts_with("diff --git a/Zend/zend.c"));
        let description = Description::from_header(text.header, "unused");
        assert_eq!(description.subject, "Zend: bail out on WASI");
        assert_eq!(description.body, "wasi-libc has no setjmp.h.\nSecond line.");
        assert_eq!(description.to_header(), text.header);
        let message = description.to_message("common", "0001-zend-bail-out-on-wasi.patch");
        assert_eq!(
            message,
            "Zend: bail out on WASI\n\nwasi-libc has no setjmp.h.\nSecond line.\n\nPatch-Set: common\nPatch-File: 0001-zend-bail-out-on-wasi.patch\n"
        );
        let parsed = parse_message(&message);
        assert_eq!(parsed.description, description);
        assert_eq!(parsed.set.as_deref(), Some("common"));
        assert_eq!(
            parsed.file.as_deref(),
            Some("0001-zend-bail-out-on-wasi.patch")
        );
    }

    #[test]
    fn plain_diffs_and_headers_without_subject() {
        let text = split_patch("why\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n");
        assert_eq!(text.header, "why\n");
        let description = Description::from_header(text.header, "fix x");
        assert_eq!(description.subject, "fix x");
        assert_eq!(description.body, "why");
        assert_eq!(subject_from_file("0002-fix-the-x.patch"), "fix the x");
    }

    #[test]
    fn messages_written_by_people() {
        let parsed = parse_message("Banner: say which flavor\n");
        assert_eq!(parsed.description.subject, "Banner: say which flavor");
        assert_eq!(parsed.description.body, "");
        assert_eq!(parsed.set, None);
        let parsed =
            parse_message("Subject only\n\nBody.\n\nSigned-off-by: A <a@b>\nPatch-Set: wasmedge\n");
        assert_eq!(parsed.description.body, "Body.\n\nSigned-off-by: A <a@b>");
        assert_eq!(parsed.set.as_deref(), Some("wasmedge"));
        assert_eq!(parsed.file, None);
    }

    #[test]
    fn slugs_and_file_names() {
        assert_eq!(
            slugify("Zend: bail out without setjmp/longjmp on WASI"),
            "zend-bail-out-without-setjmp-longjmp-on-wasi"
        );
        assert_eq!(slugify("  --- "), "patch");
        assert!(slugify(&"word ".repeat(40)).len() <= 60);
        assert_eq!(
            slug_of_file("0003-zend-resource-destructor-exact-type.patch"),
            Some("zend-resource-destructor-exact-type")
        );
        assert_eq!(slug_of_file("notes.txt"), None);
        assert_eq!(file_name(12, "x"), "0012-x.patch");
    }
}
