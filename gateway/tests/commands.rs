//! The command channel: queued per session, polled in FIFO order, removed
//! once returned.

mod common;

use common::spawn_app;

#[tokio::test]
async fn commands_are_polled_in_order_and_removed() {
    let app = spawn_app().await;
    let queued = app
        .post(
            "/api/v1/commands",
            r#"{"type":"select_card","payload":{"index":2}}"#,
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.text());
    assert_eq!(queued.json()["queued"][0]["line"], "select_card:2");
    let reply = app
        .post_with(
            "/api/v1/commands",
            "play_hand\nselect_card:0\n",
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    // `position` takes precedence over `index`, as in the mod's producer API.
    app.post(
        "/api/v1/commands",
        r#"{"type":"buy_joker","payload":{"position":1,"index":4}}"#,
    )
    .await;
    app.post("/api/v1/commands", r#"{"type":"skip_blind","payload":{}}"#)
        .await;

    let poll = app.get("/api/v1/commands/poll").await;
    assert_eq!(poll.status, 200);
    assert!(
        poll.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain"),
        "{:?}",
        poll.headers
    );
    assert_eq!(
        poll.text(),
        "select_card:2\nplay_hand\nselect_card:0\nbuy_joker:1\nskip_blind\n"
    );

    let empty = app.get("/api/v1/commands/poll").await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.text(), "", "returned commands are gone");
    let stream = app
        .js
        .get_stream("COMMANDS")
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .clone();
    assert_eq!(stream.state.messages, 0, "removed from the work queue");
}

#[tokio::test]
async fn sessions_have_separate_queues() {
    let app = spawn_app().await;
    app.post("/s/one/api/v1/commands", r#"{"type":"play_hand"}"#)
        .await;
    app.post_with(
        "/api/v1/commands",
        r#"{"type":"discard"}"#,
        &[("x-jimbot-session", "two")],
    )
    .await;
    assert_eq!(
        app.get("/api/v1/commands/poll").await.text(),
        "",
        "default session is empty"
    );
    assert_eq!(
        app.get("/s/two/api/v1/commands/poll").await.text(),
        "discard\n"
    );
    assert_eq!(
        app.get("/s/one/api/v1/commands/poll").await.text(),
        "play_hand\n"
    );
}

#[tokio::test]
async fn unknown_and_malformed_commands_are_refused_with_400() {
    let app = spawn_app().await;
    // What scripts/tools/send_command.py sends: not a command.
    let reply = app
        .post(
            "/api/v1/commands",
            r#"{"type":"COMMAND","action":"play_hand","params":{}}"#,
        )
        .await;
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert!(
        body["error"].as_str().expect("error").contains("COMMAND"),
        "{body}"
    );
    assert!(
        body["valid"]
            .as_array()
            .expect("valid list")
            .iter()
            .any(|v| v == "play_hand")
    );

    for bad in [
        r#"{"type":"play_hand","payload":{"index":-1}}"#,
        r#"{"type":"play_hand","payload":{"index":1.5}}"#,
        r#"{"payload":{}}"#,
        r#"{"type":"play_hand""#,
    ] {
        let reply = app.post("/api/v1/commands", bad).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
    for bad in [
        "",
        "clear_selection",
        "select_card:two",
        "play_hand\nnope",
        "buy_joker:1\rdiscard",
        "play_hand\u{7}",
    ] {
        let reply = app
            .post_with("/api/v1/commands", bad, &[("content-type", "text/plain")])
            .await;
        assert_eq!(reply.status, 400, "{bad:?}: {}", reply.text());
    }
    assert_eq!(
        app.get("/api/v1/commands/poll").await.text(),
        "",
        "nothing was queued"
    );
}

#[tokio::test]
async fn an_idempotency_key_queues_a_command_once() {
    let app = spawn_app().await;
    let send = || {
        app.post_with(
            "/api/v1/commands",
            r#"{"type":"play_hand"}"#,
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "k-1"),
            ],
        )
    };
    assert_eq!(send().await.json()["queued"][0]["duplicate"], false);
    assert_eq!(send().await.json()["queued"][0]["duplicate"], true);
    assert_eq!(app.get("/api/v1/commands/poll").await.text(), "play_hand\n");
}

#[tokio::test]
async fn a_head_request_does_not_empty_the_queue() {
    let app = spawn_app().await;
    app.post("/api/v1/commands", r#"{"type":"play_hand"}"#)
        .await;
    let head = app
        .send(
            axum::http::Request::head("/api/v1/commands/poll")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(app.get("/api/v1/commands/poll").await.text(), "play_hand\n");
}

#[tokio::test]
async fn polls_keep_order_across_many_commands() {
    let app = spawn_app().await;
    let lines: Vec<String> = (0..150).map(|i| format!("select_card:{i}")).collect();
    for chunk in lines.chunks(50) {
        let reply = app
            .post_with(
                "/s/many/api/v1/commands",
                chunk.join("\n"),
                &[("content-type", "text/plain")],
            )
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text());
    }
    // At most 100 per poll; the rest on the next, in order.
    let first = app.get("/s/many/api/v1/commands/poll").await.text();
    let second = app.get("/s/many/api/v1/commands/poll").await.text();
    assert_eq!(first.lines().count(), 100);
    let polled: Vec<&str> = first.lines().chain(second.lines()).collect();
    assert_eq!(polled, lines.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(app.get("/s/many/api/v1/commands/poll").await.text(), "");
}
