//! A keep-alive HTTP/1.1 client connection driven by hand: the request written in one call
//! from a reused buffer, the answer framed with `httparse` in the same task. It replaces
//! hyper's client connection, whose dispatcher task, channel and header maps cost the load
//! generator about a third of its CPU, which it takes from the server it measures on the
//! same cores (finding 87). Answers are framed by `content-length`, by chunks, or by the
//! connection's close.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Request;

/// Why an exchange did not return an answer. The connection is dropped after either.
#[derive(Debug)]
pub enum SendError {
    Timeout,
    Io(String),
}

/// One keep-alive connection, opened on first use and again after an error or a close.
pub struct Conn {
    authority: String,
    stream: Option<TcpStream>,
    out: Vec<u8>,
    input: Vec<u8>,
}

impl Conn {
    pub fn new(authority: &str) -> Self {
        Self {
            authority: authority.to_owned(),
            stream: None,
            out: Vec::with_capacity(2048),
            input: Vec::with_capacity(8192),
        }
    }

    /// Sends `req` and returns the status and body of its answer.
    pub async fn send(
        &mut self,
        req: &Request,
        timeout: Duration,
    ) -> Result<(u16, Bytes), SendError> {
        let result = match tokio::time::timeout(timeout, self.exchange(req)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Timeout),
        };
        if result.is_err() {
            // The connection's state is unknown: the next request opens a new one.
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, req: &Request) -> Result<(u16, Bytes), SendError> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| SendError::Io(format!("connect {}: {e}", self.authority)))?;
            stream
                .set_nodelay(true)
                .map_err(|e| SendError::Io(format!("TCP_NODELAY: {e}")))?;
            self.stream = Some(stream);
            self.input.clear();
        }
        let stream = self.stream.as_mut().expect("connected above");
        self.out.clear();
        req.write_http1(&mut self.out, false);
        stream
            .write_all(&self.out)
            .await
            .map_err(|e| SendError::Io(format!("writing the request: {e}")))?;
        let no_body = req.method == "HEAD";
        loop {
            match frame(&self.input, no_body).map_err(SendError::Io)? {
                Framed::Whole {
                    status,
                    body,
                    used,
                    close,
                } => {
                    let body = Bytes::from(body);
                    self.input.drain(..used);
                    if close {
                        self.stream = None;
                    }
                    return Ok((status, body));
                }
                Framed::Partial => {}
            }
            self.input.reserve(4096);
            let n = stream
                .read_buf(&mut self.input)
                .await
                .map_err(|e| SendError::Io(format!("reading the answer: {e}")))?;
            if n == 0 {
                return match frame_at_close(&self.input, no_body).map_err(SendError::Io)? {
                    Some((status, body)) => {
                        self.stream = None;
                        Ok((status, Bytes::from(body)))
                    }
                    None => Err(SendError::Io("the server closed the connection".into())),
                };
            }
        }
    }
}

/// An answer found at the start of a buffer.
#[derive(Debug, PartialEq)]
pub enum Framed {
    /// Not all of it has arrived yet.
    Partial,
    Whole {
        status: u16,
        /// Without chunk framing.
        body: Vec<u8>,
        /// Bytes of the buffer the answer took.
        used: usize,
        /// The server closes the connection after it.
        close: bool,
    },
}

enum Length {
    Fixed(usize),
    Chunked,
    UntilClose,
}

struct Head {
    status: u16,
    len: usize,
    length: Length,
    close: bool,
}

/// The answer at the start of `buf`, if all of it is there. An answer delimited by the
/// connection's close stays `Partial` until [`frame_at_close`].
pub fn frame(buf: &[u8], no_body: bool) -> Result<Framed, String> {
    let Some(head) = parse_head(buf, no_body)? else {
        return Ok(Framed::Partial);
    };
    let rest = &buf[head.len..];
    let (body, body_len) = match head.length {
        Length::Fixed(n) if rest.len() >= n => (rest[..n].to_vec(), n),
        Length::Fixed(_) | Length::UntilClose => return Ok(Framed::Partial),
        Length::Chunked => match dechunk(rest)? {
            Some(found) => found,
            None => return Ok(Framed::Partial),
        },
    };
    Ok(Framed::Whole {
        status: head.status,
        body,
        used: head.len + body_len,
        close: head.close,
    })
}

/// The answer in `buf` once the server has closed the connection: the whole rest is the
/// body of an answer delimited by the close. `None` if no whole answer is there.
pub fn frame_at_close(buf: &[u8], no_body: bool) -> Result<Option<(u16, Vec<u8>)>, String> {
    if let Framed::Whole { status, body, .. } = frame(buf, no_body)? {
        return Ok(Some((status, body)));
    }
    match parse_head(buf, no_body)? {
        Some(Head {
            status,
            len,
            length: Length::UntilClose,
            ..
        }) => Ok(Some((status, buf[len..].to_vec()))),
        _ => Ok(None),
    }
}

fn parse_head(buf: &[u8], no_body: bool) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("malformed answer: {e}")),
    };
    let status = response.code.unwrap_or(0);
    let mut close = response.version == Some(0);
    let mut fixed = None;
    let mut chunked = false;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or("malformed content-length")?;
            fixed = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = has_token(h.value, b"chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            if has_token(h.value, b"close") {
                close = true;
            } else if has_token(h.value, b"keep-alive") {
                close = false;
            }
        }
    }
    let bodiless = no_body || status < 200 || status == 204 || status == 304;
    let length = if bodiless {
        Length::Fixed(0)
    } else if chunked {
        Length::Chunked
    } else if let Some(n) = fixed {
        Length::Fixed(n)
    } else {
        close = true;
        Length::UntilClose
    };
    Ok(Some(Head {
        status,
        len,
        length,
        close,
    }))
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// A chunked body at the start of `buf`: its bytes and how much of `buf` it took, trailers
/// included; `None` while incomplete.
fn dechunk(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let (skip, size) = match httparse::parse_chunk_size(&buf[at..]) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err("malformed chunk size".into()),
        };
        at += skip;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            let rest = &buf[at..];
            return Ok(if rest.starts_with(b"\r\n") {
                Some((body, at + 2))
            } else {
                rest.windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|p| (body, at + p + 4))
            });
        }
        let size = usize::try_from(size).map_err(|_| "chunk too large")?;
        if buf.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err("malformed chunk".into());
        }
        at += size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(status: u16, body: &[u8], used: usize, close: bool) -> Framed {
        Framed::Whole {
            status,
            body: body.to_vec(),
            used,
            close,
        }
    }

    #[test]
    fn content_length_frames_the_body_and_leaves_what_follows() {
        let one = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let mut buf = one.to_vec();
        buf.extend_from_slice(b"HTTP/1.1 ");
        assert_eq!(
            frame(&buf, false),
            Ok(whole(200, b"hello", one.len(), false))
        );
        assert_eq!(frame(&one[..one.len() - 1], false), Ok(Framed::Partial));
        assert_eq!(frame(&one[..20], false), Ok(Framed::Partial));
    }

    #[test]
    fn chunks_are_joined_and_trailers_skipped() {
        let a = b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(frame(a, false), Ok(whole(400, b"abcde", a.len(), false)));
        let t = b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\nX-T: 1\r\n\r\n";
        assert_eq!(frame(t, false), Ok(whole(200, b"z", t.len(), false)));
        for cut in [a.len() - 1, a.len() - 3, a.len() - 12] {
            assert_eq!(frame(&a[..cut], false), Ok(Framed::Partial), "cut at {cut}");
        }
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n";
        assert!(frame(bad, false).is_err());
    }

    #[test]
    fn close_and_http10_end_the_connection() {
        let c = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(frame(c, false), Ok(whole(200, b"", c.len(), true)));
        let old = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(frame(old, false), Ok(whole(200, b"ok", old.len(), true)));
        let kept = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(frame(kept, false), Ok(whole(200, b"ok", kept.len(), false)));
    }

    #[test]
    fn a_body_without_length_ends_at_the_close() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one";
        assert_eq!(frame(r, false), Ok(Framed::Partial));
        assert_eq!(
            frame_at_close(r, false),
            Ok(Some((200, b"part one".to_vec())))
        );
        assert_eq!(frame_at_close(b"HTTP/1.1 200 O", false), Ok(None));
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort";
        assert_eq!(frame_at_close(cut, false), Ok(None));
    }

    #[test]
    fn bodiless_answers_take_only_their_head() {
        let h = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(frame(h, false), Ok(whole(204, b"", h.len(), false)));
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        assert_eq!(frame(head, true), Ok(whole(200, b"", head.len(), false)));
    }

    #[test]
    fn garbage_is_an_error_not_a_wait() {
        assert!(frame(b"NOT HTTP\r\n\r\n", false).is_err());
        let bad_len = b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
        assert!(frame(bad_len, false).is_err());
    }

    /// The client against a real socket: keep-alive answers, a chunked one, one that closes,
    /// and a reconnect after it.
    #[tokio::test]
    async fn a_connection_serves_answers_in_turn_and_reopens_after_a_close() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let answers: [&[&[u8]]; 2] = [
                &[
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nmade\r\n0\r\n\r\n",
                    b"HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\nbroken",
                ],
                &[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain"],
            ];
            let mut seen = Vec::new();
            for conn_answers in answers {
                let (mut s, _) = listener.accept().await.unwrap();
                for (i, answer) in conn_answers.iter().enumerate() {
                    let mut req = Vec::new();
                    loop {
                        let mut b = [0u8; 1024];
                        let n = s.read(&mut b).await.unwrap();
                        req.extend_from_slice(&b[..n]);
                        if req.ends_with(b"{}") {
                            break;
                        }
                    }
                    seen.push(String::from_utf8(req).unwrap());
                    // The first answer arrives in two pieces.
                    if i == 0 {
                        s.write_all(&answer[..10]).await.unwrap();
                        s.flush().await.unwrap();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        s.write_all(&answer[10..]).await.unwrap();
                    } else {
                        s.write_all(answer).await.unwrap();
                    }
                }
            }
            seen
        });
        let req = Request {
            method: "POST",
            path: "/x".into(),
            query: "a=1".into(),
            headers: vec![("host".into(), addr.to_string())],
            body: b"{}".to_vec(),
        };
        let mut conn = Conn::new(&addr.to_string());
        let t = Duration::from_secs(5);
        let mut got = Vec::new();
        for _ in 0..4 {
            let (status, body) = conn.send(&req, t).await.unwrap();
            got.push((status, String::from_utf8(body.to_vec()).unwrap()));
        }
        assert_eq!(
            got,
            [
                (200, "ok".to_owned()),
                (201, "made".to_owned()),
                (500, "broken".to_owned()),
                (200, "again".to_owned()),
            ]
        );
        let seen = server.await.unwrap();
        assert_eq!(seen.len(), 4);
        assert!(
            seen[0].starts_with("POST /x?a=1 HTTP/1.1\r\nhost: "),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains("content-length: 2\r\n"));
        assert!(!seen[0].contains("connection: close"));
    }
}
