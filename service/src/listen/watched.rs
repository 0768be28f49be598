//! The connection's byte stream, watched for two things hyper does not see:
//! writes that make no progress (a client that stopped reading), and an
//! HTTP/2 client's connection preface (the point from which HTTP/2's own
//! keep-alive takes over from the first-request deadline).

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

/// What every HTTP/2 connection starts with (RFC 9113, section 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The error a stalled write ends the connection with.
#[derive(Debug, thiserror::Error)]
#[error("the client has not read for {0:?}: response write stalled")]
pub(crate) struct WriteStalled(pub(crate) Duration);

/// A byte stream whose writes fail after `write_timeout` without progress, and
/// which marks `started` once a full HTTP/2 preface has been read.
#[derive(Debug)]
pub(crate) struct Watched<I> {
    io: I,
    write_timeout: Duration,
    stalled_since: Option<Pin<Box<Sleep>>>,
    preface_matched: usize,
    sniffing: bool,
    started: Arc<AtomicBool>,
}

impl<I> Watched<I> {
    pub(crate) fn new(io: I, write_timeout: Duration, started: Arc<AtomicBool>) -> Self {
        Self {
            io,
            write_timeout,
            stalled_since: None,
            preface_matched: 0,
            sniffing: true,
            started,
        }
    }

    fn sniff(&mut self, read: &[u8]) {
        if read.is_empty() {
            self.sniffing = false;
            return;
        }
        for &byte in read {
            if H2_PREFACE[self.preface_matched] != byte {
                self.sniffing = false;
                return;
            }
            self.preface_matched += 1;
            if self.preface_matched == H2_PREFACE.len() {
                self.sniffing = false;
                self.started.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    /// Passes a write's outcome through; a write pending for longer than
    /// the timeout (since the last one that made progress) becomes an error.
    fn watch_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(outcome) => {
                self.stalled_since = None;
                Poll::Ready(outcome)
            }
            Poll::Pending => {
                let timeout = self.write_timeout;
                let stalled = self
                    .stalled_since
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                ready!(stalled.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    WriteStalled(timeout),
                )))
            }
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        if self.sniffing {
            let this = &mut *self;
            this.sniff(&buf.filled()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch_write(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.watch_write(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch_write(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http2_preface_marks_the_connection_started_and_http1_does_not() {
        let started = Arc::new(AtomicBool::new(false));
        let mut h2 = Watched::new((), Duration::from_secs(1), started.clone());
        h2.sniff(&H2_PREFACE[..10]);
        assert!(!started.load(Ordering::Relaxed), "half a preface");
        h2.sniff(&H2_PREFACE[10..]);
        assert!(started.load(Ordering::Relaxed), "whole preface");

        let started = Arc::new(AtomicBool::new(false));
        let mut h1 = Watched::new((), Duration::from_secs(1), started.clone());
        h1.sniff(b"PRI / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!started.load(Ordering::Relaxed));
        assert!(!h1.sniffing, "stops looking at the first mismatch");
    }

    #[tokio::test]
    async fn a_write_that_makes_no_progress_fails_after_the_timeout() {
        use tokio::io::AsyncWriteExt;

        // A pipe whose reader never reads: writes block once it is full.
        let (client, server) = tokio::io::duplex(1024);
        let mut watched = Watched::new(
            server,
            Duration::from_millis(200),
            Arc::new(AtomicBool::new(false)),
        );
        let started = std::time::Instant::now();
        let err = watched
            .write_all(&[0u8; 64 * 1024])
            .await
            .expect_err("the write stalls");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        drop(client);
    }
}
