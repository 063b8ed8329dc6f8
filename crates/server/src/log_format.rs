//! The text log line, written directly for the events of the request path.
//!
//! tracing-subscriber's compact format took ~4.5 % of a describe's CPU for the one line
//! per request (bench/README.md, finding 64): a `fmt::Write` call per piece, `Debug` for
//! every string and the message streamed character by character for its ANSI check.
//! [`Compact`] writes the very same bytes for the events it can (no colours, no span,
//! fields of plain types, nothing the compact format would escape) and hands every other
//! event to that format.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

/// tracing-subscriber's compact format, with a direct path for plain events.
pub struct Compact {
    general: format::Format<format::Compact>,
}

impl Default for Compact {
    fn default() -> Self {
        Compact {
            general: format::Format::default().compact(),
        }
    }
}

impl<S, N> FormatEvent<S, N> for Compact
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let outside_spans = event.parent().is_none() && ctx.lookup_current().is_none();
        if !writer.has_ansi_escapes() && outside_spans {
            if let Some(line) = plain_line(event, SystemTime::now()) {
                return writer.write_str(&line);
            }
        }
        self.general.format_event(ctx, writer, event)
    }
}

/// The compact format's line for `event` at `now`, if the event is plain enough.
fn plain_line(event: &Event<'_>, now: SystemTime) -> Option<String> {
    let meta = event.metadata();
    // A `log` record: the general path rewrites its metadata first.
    if meta.target() == "log" {
        return None;
    }
    let mut fields = Fields {
        line: String::with_capacity(192),
        first: true,
        plain: true,
    };
    push_timestamp(&mut fields.line, now)?;
    fields.line.push(' ');
    fields.line.push_str(level_text(*meta.level()));
    fields.line.push(' ');
    fields.line.push_str(meta.target());
    fields.line.push_str(": ");
    event.record(&mut fields);
    let Fields {
        mut line, plain, ..
    } = fields;
    line.push('\n');
    plain.then_some(line)
}

/// As the compact format pads it, without colours.
fn level_text(level: Level) -> &'static str {
    if level == Level::ERROR {
        "ERROR"
    } else if level == Level::WARN {
        " WARN"
    } else if level == Level::INFO {
        " INFO"
    } else if level == Level::DEBUG {
        "DEBUG"
    } else {
        "TRACE"
    }
}

/// `2026-11-24T01:20:19.947472Z`, as tracing-subscriber's system-time timer prints it.
fn push_timestamp(line: &mut String, now: SystemTime) -> Option<()> {
    let since = now.duration_since(UNIX_EPOCH).ok()?;
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days(i64::try_from(secs / 86_400).ok()?);
    let year = u64::try_from(year).ok().filter(|y| *y <= 9999)?;
    let time = secs % 86_400;
    push_digits(line, year, 4);
    line.push('-');
    push_digits(line, month, 2);
    line.push('-');
    push_digits(line, day, 2);
    line.push('T');
    push_digits(line, time / 3600, 2);
    line.push(':');
    push_digits(line, time / 60 % 60, 2);
    line.push(':');
    push_digits(line, time % 60, 2);
    line.push('.');
    push_digits(line, u64::from(since.subsec_micros()), 6);
    line.push('Z');
    Some(())
}

/// `value` in `width` decimal digits, zero-padded (`value` has at most `width` digits).
fn push_digits(line: &mut String, value: u64, width: u32) {
    let mut divisor = 10u64.pow(width - 1);
    while divisor > 0 {
        line.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u64;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u64;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// The fields as the compact format's visitor writes them; `plain` turns false for
/// anything it would write otherwise than this simple path can.
struct Fields {
    line: String,
    first: bool,
    plain: bool,
}

impl Fields {
    fn separate(&mut self) {
        if !self.first {
            self.line.push(' ');
        }
        self.first = false;
    }

    /// The separator and `name=`.
    fn name(&mut self, field: &Field) {
        let name = field.name();
        if name.starts_with("log.") {
            self.plain = false;
        }
        self.separate();
        self.line.push_str(name.strip_prefix("r#").unwrap_or(name));
        self.line.push('=');
    }

    fn message(&mut self, text: &str) {
        // The characters the compact format's ANSI sanitizer rewrites.
        let escaped = text.chars().any(|c| {
            matches!(
                c,
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
            )
        });
        if escaped {
            self.plain = false;
        }
        self.separate();
        self.line.push_str(text);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            return self.message(value);
        }
        self.name(field);
        // `Debug` of a string that has nothing to escape is the string in quotes.
        if value
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            self.line.push('"');
            self.line.push_str(value);
            self.line.push('"');
        } else {
            let _ = write!(self.line, "{value:?}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        let _ = write!(self.line, "{value}");
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.name(field);
        let _ = write!(self.line, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        self.line.push_str(if value { "true" } else { "false" });
    }

    fn record_error(&mut self, _field: &Field, _value: &(dyn std::error::Error + 'static)) {
        // Written with its sources, in the general format's own way.
        self.plain = false;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            return self.message(&format!("{value:?}"));
        }
        self.name(field);
        let _ = write!(self.line, "{value:?}");
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn emit() {
        let call: Option<&str> = None;
        tracing::info!(
            status = 200u16,
            code = "",
            elapsed_us = 82u64,
            request_id = "ee97d6257689e3a758429cc2892c6b6e",
            call = "CreateInstanceV1",
            "answered"
        );
        tracing::info!(status = 404u16, code = "NotFound", call, "answered");
        tracing::warn!(attempt = -3i64, retry = true, "store busy: {} left", 2);
        tracing::error!(
            what = "quote \" backslash \\ newline \n tab \t é \u{200b}",
            "x"
        );
        tracing::info!(r#type = "raw", ratio = 0.5f64, list = ?vec![1, 2], "odd fields");
        tracing::info!("a message with an \x1b[31m escape");
        let e = io::Error::other("disk gone");
        tracing::error!(error = &e as &(dyn std::error::Error + 'static), "failed");
        tracing::info_span!("outer", n = 1).in_scope(|| tracing::info!(inner = 1, "in a span"));
        tracing::debug!("below the level");
    }

    fn lines(general: bool) -> Vec<String> {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(out.clone())
            .with_ansi(false)
            .with_max_level(Level::INFO);
        if general {
            tracing::subscriber::with_default(builder.compact().finish(), emit);
        } else {
            tracing::subscriber::with_default(
                builder.event_format(Compact::default()).finish(),
                emit,
            );
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn lines_match_the_compact_format_byte_for_byte_after_the_time() {
        let (ours, theirs) = (lines(false), lines(true));
        assert_eq!(ours.len(), 8, "{ours:#?}");
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a[27..], b[27..], "\n{a}\n{b}");
            assert!(
                a.as_bytes()[26] == b'Z' && b.as_bytes()[26] == b'Z',
                "{a}\n{b}"
            );
            // Printed within the same minute, unless the test ran across its end.
            assert!(a[..16] == b[..16] || a[17..19] == *"59" || b[17..19] == *"00");
        }
        assert!(ours[0].ends_with(
            "  INFO cloudtwin_server::log_format::tests: answered status=200 code=\"\" elapsed_us=82 request_id=\"ee97d6257689e3a758429cc2892c6b6e\" call=\"CreateInstanceV1\""
        ), "{}", ours[0]);
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        let at = |secs: u64, micros: u64| {
            let mut line = String::new();
            push_timestamp(
                &mut line,
                UNIX_EPOCH + std::time::Duration::from_micros(secs * 1_000_000 + micros),
            )
            .unwrap();
            line
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(at(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000000Z");
        assert_eq!(at(1_795_483_219, 947_472), "2026-11-24T01:20:19.947472Z");
        assert_eq!(at(253_402_300_799, 0), "9999-12-31T23:59:59.000000Z");
        let mut line = String::new();
        assert!(push_timestamp(
            &mut line,
            UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_800)
        )
        .is_none());
    }
}
