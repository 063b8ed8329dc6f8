//! Log lines gathered in memory and written out in large pieces by one thread.
//!
//! A request's line is appended to a shared buffer (a copy under a lock, no system call);
//! a flusher thread writes everything gathered [`FLUSH_DELAY`] after the first line of a
//! batch arrived. tracing-appender's non-blocking writer, used before, wrote whenever its
//! queue ran empty: ~6 lines per write(2) under load, and its thread took 8.5 % of a core
//! under describes at c=64, now under 1 % (bench/README.md, finding 51).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory before it is written.
pub const FLUSH_DELAY: Duration = Duration::from_millis(20);
/// Past this many bytes waiting, writers wait for the flusher (a stalled output slows
/// requests down instead of growing the buffer without bound, and no line is dropped).
const MAX_WAITING: usize = 8 << 20;
/// How long the end of `main` waits for the last lines to be written: an output nobody
/// reads (a full pipe) must not keep the process from exiting.
const LAST_WRITE_WAIT: Duration = Duration::from_secs(1);
/// The largest buffer kept for the next batch once written: a batch under load is ~100 KB,
/// which a buffer started empty reached by doubling, copying each time.
const KEPT_CAPACITY: usize = 1 << 20;

struct Shared {
    state: Mutex<State>,
    /// Lines arrived in an empty buffer, or the buffer is closing.
    arrived: Condvar,
    /// The flusher took the buffer, or has ended.
    drained: Condvar,
}

#[derive(Default)]
struct State {
    waiting: Vec<u8>,
    closing: bool,
    /// The flusher wrote the last lines and returned.
    ended: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A writer that panicked mid-append left whole lines behind it: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The [`MakeWriter`] for the log subscriber; every handle appends to the same buffer.
/// Each `write` is appended whole, so lines never interleave: tracing-subscriber formats a
/// line, then writes it in one call.
#[derive(Clone)]
pub struct LogBuffer {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the flusher when dropped (at the end of `main`).
pub struct FlushOnDrop {
    shared: Arc<Shared>,
}

impl LogBuffer {
    /// A buffer written to `out` by a thread of its own.
    pub fn new<W: Write + Send + 'static>(out: W) -> (LogBuffer, FlushOnDrop) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
            drained: Condvar::new(),
        });
        {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("log-writer".into())
                .spawn(move || {
                    flush_loop(&shared, out);
                    shared.lock().ended = true;
                    shared.drained.notify_all();
                })
                .expect("the log writer thread starts");
        }
        (
            LogBuffer {
                shared: shared.clone(),
            },
            FlushOnDrop { shared },
        )
    }
}

fn flush_loop<W: Write>(shared: &Shared, mut out: W) {
    // The buffer last written, emptied: it takes the next batch.
    let mut spare = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.waiting.is_empty() && !state.closing {
            state = shared
                .arrived
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        if state.waiting.is_empty() {
            return; // closing, and nothing left
        }
        if !state.closing {
            // Let the batch grow; lines keep arriving meanwhile.
            drop(state);
            std::thread::sleep(FLUSH_DELAY);
            state = shared.lock();
        }
        let mut batch = std::mem::replace(&mut state.waiting, std::mem::take(&mut spare));
        drop(state);
        shared.drained.notify_all();
        // Nowhere to report a failed log write: the next batch tries again.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        batch.shrink_to(KEPT_CAPACITY);
        spare = batch;
    }
}

impl Write for &LogBuffer {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        while state.waiting.len() >= MAX_WAITING && !state.closing {
            state = self
                .shared
                .drained
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        let was_empty = state.waiting.is_empty();
        state.waiting.extend_from_slice(line);
        drop(state);
        if was_empty {
            self.shared.arrived.notify_one();
        }
        Ok(line.len())
    }

    /// The flusher writes within [`FLUSH_DELAY`]; nothing to do here.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = &'a LogBuffer;

    fn make_writer(&'a self) -> &'a LogBuffer {
        self
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closing = true;
        self.shared.arrived.notify_one();
        self.shared.drained.notify_all();
        let deadline = std::time::Instant::now() + LAST_WRITE_WAIT;
        while !state.ended {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return; // the output is stuck: exit without the last lines
            }
            state = match self.shared.drained.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(e) => e.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// An output the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn a_line_is_written_within_the_delay_without_a_flush() {
        let out = Captured::default();
        let (logs, _guard) = LogBuffer::new(out.clone());
        logs.make_writer().write_all(b"one\n").unwrap();
        let start = Instant::now();
        while out.text().is_empty() {
            assert!(
                start.elapsed() < FLUSH_DELAY * 50,
                "the line was never written"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(out.text(), "one\n");
    }

    #[test]
    fn dropping_the_guard_writes_every_line_whole_and_in_order_per_writer() {
        let out = Captured::default();
        let (logs, guard) = LogBuffer::new(out.clone());
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let logs = logs.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        // One call per line, as the subscriber writes each line.
                        let line = format!("writer {w} line {i:04}\n");
                        logs.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        drop(guard);
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for w in 0..4 {
            let own: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("writer {w} ")))
                .collect();
            let expected: Vec<String> = (0..500)
                .map(|i| format!("writer {w} line {i:04}"))
                .collect();
            assert_eq!(own, expected);
        }
    }

    #[test]
    fn an_output_nobody_reads_does_not_keep_the_process_from_ending() {
        /// An output whose writes never return, as a pipe nobody reads.
        struct Stuck;
        impl Write for Stuck {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                loop {
                    std::thread::park();
                }
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (logs, guard) = LogBuffer::new(Stuck);
        logs.make_writer().write_all(b"lost\n").unwrap();
        std::thread::sleep(FLUSH_DELAY * 2);
        let start = Instant::now();
        drop(guard);
        let waited = start.elapsed();
        assert!(
            waited >= LAST_WRITE_WAIT && waited < LAST_WRITE_WAIT * 3,
            "waited {waited:?}"
        );
    }

    #[test]
    fn a_full_buffer_makes_writers_wait_for_the_flusher_instead_of_growing() {
        /// An output that takes a while per write, as a slow disk or a full pipe.
        struct Slow(Captured);
        impl Write for Slow {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_millis(30));
                self.0.write(buf)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Captured::default();
        let (logs, guard) = LogBuffer::new(Slow(out.clone()));
        let line = vec![b'x'; 1 << 20];
        let mut writer = logs.make_writer();
        for _ in 0..24 {
            writer.write_all(&line).unwrap();
            assert!(
                logs.shared.lock().waiting.len() <= MAX_WAITING + line.len(),
                "the buffer grew past its bound"
            );
        }
        drop(guard);
        assert_eq!(out.0.lock().unwrap().len(), 24 << 20);
    }
}
