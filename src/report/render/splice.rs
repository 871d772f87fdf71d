//! A large pretty-printed JSON document whose one array holds nearly all of
//! it (a fleet report's targets, a SARIF log's results), written as a stream
//! on every core: the rest of the document is serialized once with that
//! array empty, and the array's elements are serialized in chunks by worker
//! threads and written in order where the empty array stands — byte for byte
//! what `serde_json::to_writer_pretty` writes for the whole document.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// Writes `frame` (a pretty-printed document) to `out` with the elements
/// that `elements` gives for each of `items` spliced into the empty array
/// `key_line` names. `key_line` is the array's line as the frame has it,
/// newline and indentation included (`"\n  \"targets\": []"`): no JSON
/// string holds a raw newline, so it can only match the document's own key.
pub fn write_with_array<T: Sync>(
    frame: &str,
    key_line: &str,
    items: &[T],
    chunk_size: usize,
    elements: impl Fn(&T, &mut Elements) -> io::Result<()> + Sync,
    out: &mut dyn Write,
) -> io::Result<()> {
    let at = frame
        .find(key_line)
        .ok_or_else(|| io::Error::other(format!("the document has no {key_line:?}")))?;
    let spaces = key_line.trim_start_matches('\n').len()
        - key_line
            .trim_start_matches('\n')
            .trim_start_matches(' ')
            .len();
    let (head, tail) = frame.split_at(at + key_line.len() - 1);
    out.write_all(head.as_bytes())?;
    let depth = spaces / INDENT.len() + 1;
    let chunk = |items: &[T]| -> io::Result<Vec<u8>> {
        let mut chunk = Elements {
            text: Vec::new(),
            depth,
        };
        for item in items {
            elements(item, &mut chunk)?;
        }
        Ok(chunk.text)
    };
    let mut wrote_any = false;
    write_in_order(items, chunk_size.max(1), chunk, |text| {
        // Every element is written after a comma; the array's first is not.
        let text = match text.split_first() {
            Some((b',', rest)) if !wrote_any => rest,
            _ => text,
        };
        wrote_any |= !text.is_empty();
        out.write_all(text)
    })?;
    if wrote_any {
        out.write_all(b"\n")?;
        out.write_all(&b" ".repeat(spaces))?;
    }
    out.write_all(tail.as_bytes())?;
    out.write_all(b"\n")
}

/// The elements one chunk of items gives, as text at the array's depth.
pub struct Elements {
    text: Vec<u8>,
    /// Nesting level of the array's elements (two spaces each).
    depth: usize,
}

impl Elements {
    /// Adds one element, pretty-printed at the array's depth.
    pub fn push(&mut self, value: &impl Serialize) -> io::Result<()> {
        if self.text.capacity() == 0 {
            // Elements of one array are much alike: room for a few at once.
            self.text.reserve(64 * 1024);
        }
        self.text.extend_from_slice(b",\n");
        indent(&mut self.text, self.depth)?;
        let mut serializer = serde_json::Serializer::with_formatter(
            &mut self.text,
            Pretty {
                current_indent: self.depth,
                has_value: false,
            },
        );
        value.serialize(&mut serializer).map_err(io::Error::from)
    }
}

/// Runs `make` on the chunks of `items` on every core and hands the results
/// to `write` in order, as they are ready. A rayon version that made a
/// window of chunks and then wrote it lost the overlap of writing with
/// serializing (the 8×1,000 merge took 3.8–4.1 s instead of 3.2 s).
fn write_in_order<T: Sync>(
    items: &[T],
    chunk_size: usize,
    make: impl Fn(&[T]) -> io::Result<Vec<u8>> + Sync,
    mut write: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let chunks: Vec<&[T]> = items.chunks(chunk_size).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, chunks.len().max(1));
    if workers == 1 {
        for chunk in &chunks {
            write(&make(chunk)?)?;
        }
        return Ok(());
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Bounded, so a slow writer holds a few chunks in memory, not the document.
    let (sender, receiver) = std::sync::mpsc::sync_channel(workers * 2);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, chunks, make) = (&next, &chunks, &make);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(chunk) = chunks.get(index) else {
                        return;
                    };
                    let text = make(chunk);
                    let failed = text.is_err();
                    // The writer stopped (an error): nothing more to do.
                    if sender.send((index, text)).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(sender);
        // In order: a chunk that is ready early waits for the ones before it.
        let mut waiting = std::collections::BTreeMap::new();
        let mut written = 0;
        // Owned by the loop: if writing fails, it is dropped, and the workers'
        // next send fails instead of waiting for room forever.
        for (index, text) in receiver {
            waiting.insert(index, text);
            while let Some(text) = waiting.remove(&written) {
                write(&text?)?;
                written += 1;
            }
        }
        if written == chunks.len() {
            Ok(())
        } else {
            Err(io::Error::other("an element could not be serialized"))
        }
    })
}

const INDENT: &[u8] = b"  ";

fn indent(out: &mut Vec<u8>, depth: usize) -> io::Result<()> {
    const SPACES: &[u8] = &[b' '; 64];
    let mut left = depth * INDENT.len();
    while left > 0 {
        let n = left.min(SPACES.len());
        out.extend_from_slice(&SPACES[..n]);
        left -= n;
    }
    Ok(())
}

/// serde_json's `PrettyFormatter` (two spaces), started at a given depth, so
/// an element is written where it stands with no pass to indent it after.
struct Pretty {
    current_indent: usize,
    has_value: bool,
}

impl Pretty {
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            write_indent(writer, self.current_indent)?;
        }
        writer.write_all(bracket)
    }

    fn next_line<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        write_indent(writer, self.current_indent)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.next_line(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.next_line(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

fn write_indent<W: ?Sized + Write>(writer: &mut W, depth: usize) -> io::Result<()> {
    for _ in 0..depth {
        writer.write_all(INDENT)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The document, streamed with `items` spliced in as `key`'s elements.
    fn spliced(
        document: &serde_json::Value,
        key_line: &str,
        items: &[serde_json::Value],
    ) -> String {
        let frame = serde_json::to_string_pretty(document).unwrap();
        let mut out = Vec::new();
        write_with_array(&frame, key_line, items, 3, |item, e| e.push(item), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn elements_are_written_as_the_pretty_printer_writes_the_whole_document() {
        let item = |n: usize| json!({"id": n, "nested": {"list": [1, {"a": []}, []], "empty": {}}, "s": "x\ny"});
        for n in [0, 1, 2, 3, 4, 7] {
            let items: Vec<_> = (0..n).map(item).collect();
            let whole = json!({"a": 1, "runs": [{"tool": {}, "results": items, "after": [2]}]});
            let frame = json!({"a": 1, "runs": [{"tool": {}, "results": [], "after": [2]}]});
            let expected = serde_json::to_string_pretty(&whole).unwrap() + "\n";
            assert_eq!(
                spliced(&frame, "\n      \"results\": []", &items),
                expected,
                "{n} items"
            );
        }
    }

    #[test]
    fn items_that_give_no_element_leave_no_comma() {
        let frame = json!({"results": [], "z": 0});
        let numbers: Vec<u32> = (0..10).collect();
        let mut out = Vec::new();
        write_with_array(
            &serde_json::to_string_pretty(&frame).unwrap(),
            "\n  \"results\": []",
            &numbers,
            2,
            |n, e| if n % 4 == 3 { e.push(n) } else { Ok(()) },
            &mut out,
        )
        .unwrap();
        let expected = serde_json::to_string_pretty(&json!({"results": [3, 7], "z": 0})).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected + "\n");
    }

    #[test]
    fn a_frame_without_the_array_is_an_error() {
        let mut out = Vec::new();
        let err = write_with_array(
            "{}",
            "\n  \"targets\": []",
            &[1],
            1,
            |n, e| e.push(n),
            &mut out,
        )
        .unwrap_err();
        assert!(err.to_string().contains("targets"), "{err}");
    }
}
