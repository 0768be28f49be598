//! What crosses the wire: the poll answer is framed by Content-Length (the
//! mod's plainest HTTP backend cannot de-chunk), and a graceful shutdown
//! finishes in-flight requests.

mod common;

use std::time::Duration;

use common::{fixture, spawn_app};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

async fn serve(
    router: axum::Router,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
    });
    (addr, stop, server)
}

async fn read_response(stream: &mut TcpStream) -> String {
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn poll_is_framed_by_content_length_never_chunked() {
    let app = spawn_app().await;
    app.post("/api/v1/commands", r#"{"type":"play_hand"}"#)
        .await;
    let (addr, _stop, _server) = serve(app.router.clone()).await;

    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // What the mod sends: a GET with Content-Type: text/plain, then EOF-read.
    stream
        .write_all(b"GET /api/v1/commands/poll HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let response = read_response(&mut stream).await;
    let lower = response.to_ascii_lowercase();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(lower.contains("content-length: 10\r\n"), "{response}");
    assert!(!lower.contains("transfer-encoding"), "{response}");
    assert!(response.ends_with("\r\n\r\nplay_hand\n"), "{response}");
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let app = spawn_app().await;
    // Counted by the same middleware the binary uses, to know when the
    // server has taken the requests in (only this test uses it).
    let router = app.router.clone().layer(axum::middleware::from_fn(
        jimbot_service::metrics::track_http,
    ));
    let metrics = jimbot_service::metrics::recorder();
    let (addr, stop, server) = serve(router).await;
    let body = fixture("batch_mixed.json");

    // Three requests whose bodies are only half sent when shutdown starts.
    let mut streams = Vec::new();
    for session in ["a", "b", "c"] {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "POST /s/{session}/api/v1/events/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        stream
            .write_all(&body[..body.len() / 2])
            .await
            .expect("half");
        streams.push(stream);
    }
    // Shut down only once all three are being handled (waiting for their
    // bodies), then let the bodies arrive.
    let in_flight = || {
        metrics
            .render()
            .lines()
            .find_map(|line| line.strip_prefix("http_requests_in_flight "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    for _ in 0..200 {
        if in_flight() >= 3.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(in_flight(), 3.0, "all three requests in flight");
    stop.send(()).expect("stop");
    tokio::time::sleep(Duration::from_millis(200)).await;

    for stream in &mut streams {
        stream
            .write_all(&body[body.len() / 2..])
            .await
            .expect("rest");
    }
    for stream in &mut streams {
        let response = read_response(stream).await;
        assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    }
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped after finishing")
        .expect("task");
    for session in ["a", "b", "c"] {
        assert_eq!(app.events(session).await.len(), 4, "{session}: stored");
    }
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}
