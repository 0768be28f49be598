//! The query API over the scripted game: filters, pagination, CSV, and
//! hostile parameters answered with 400 and what was wrong.

mod common;

use common::{Harness, game, get, get_json};

async fn api() -> (Harness, common::Consumer, axum::Router) {
    let harness = Harness::start().await;
    for (session, events) in game::scripted() {
        harness.post_batch(session, &events).await;
    }
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(harness.stream_last_seq().await).await;
    let api = consumer.api();
    (harness, consumer, api)
}

fn ids(body: &serde_json::Value) -> Vec<i64> {
    body["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn runs_filter_by_session_outcome_and_time() {
    let (_h, _c, api) = api().await;
    let (_, body) = get_json(&api, "/api/v1/analytics/runs?session=beta").await;
    assert_eq!((ids(&body), body["total"].as_u64()), (vec![4], Some(1)));
    // Sessions are matched as the gateway names them (case folded).
    let (_, body) = get_json(&api, "/api/v1/analytics/runs?session=ALPHA&outcome=lost").await;
    assert_eq!(ids(&body), vec![1]);
    let (_, all) = get_json(&api, "/api/v1/analytics/runs").await;
    let first_start = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["started_at_ms"].as_i64().unwrap())
        .min()
        .unwrap();
    let (_, none) = get_json(&api, &format!("/api/v1/analytics/runs?to={first_start}")).await;
    assert_eq!(none["total"], 0, "`to` is exclusive");
    let (_, from) = get_json(&api, &format!("/api/v1/analytics/runs?from={first_start}")).await;
    assert_eq!(from["total"], 4);
    let (_, later) = get_json(&api, "/api/v1/analytics/runs?from=2999-01-01T00:00:00Z").await;
    assert_eq!(later["total"], 0);
}

#[tokio::test]
async fn runs_page_newest_first_without_gaps_or_repeats() {
    let (_h, _c, api) = api().await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let (status, page) = get_json(
            &api,
            &format!("/api/v1/analytics/runs?limit=3&offset={offset}"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(page["total"], 4);
        seen.extend(ids(&page));
        match page["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![1, 2, 3, 4], "every run once: {seen:?}");
    let (status, beyond) = get_json(&api, "/api/v1/analytics/runs?offset=1000000000").await;
    assert_eq!(
        (status.as_u16(), ids(&beyond).len()),
        (200, 0),
        "a huge but valid offset is an empty page"
    );
}

#[tokio::test]
async fn csv_is_served_on_request() {
    let (_h, _c, api) = api().await;
    let (status, body, content_type) = get(
        &api,
        "/api/v1/analytics/runs?session=alpha",
        Some("text/csv"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0].starts_with("id,session,outcome,started_at,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 4, "header and three runs:\n{body}");
    assert!(body.contains(",alpha,lost,"), "{body}");
    assert!(body.contains("Joker|Blueprint"), "{body}");
    let (_, jokers, _) = get(
        &api,
        "/api/v1/analytics/jokers",
        Some("application/json;q=0.5, text/csv"),
    )
    .await;
    assert_eq!(
        jokers,
        "joker,runs,won,win_rate,mean_final_ante\r\nJoker,2,0,0,1.5\r\nBlueprint,1,0,0,2\r\n"
    );
    let (_, rounds, _) = get(&api, "/api/v1/analytics/runs/1", Some("text/csv")).await;
    assert_eq!(
        rounds.lines().count(),
        5,
        "header and four rounds:\n{rounds}"
    );
    let (_, summary, _) = get(&api, "/api/v1/analytics/summary", Some("text/csv")).await;
    assert!(summary.contains("\r\nruns,4\r\n"), "{summary}");
}

#[tokio::test]
async fn hostile_parameters_get_400_with_what_was_wrong() {
    let (_h, _c, api) = api().await;
    let cases = [
        ("/api/v1/analytics/runs?limit=-1", "limit"),
        ("/api/v1/analytics/runs?limit=0", "limit"),
        ("/api/v1/analytics/runs?limit=100000", "limit"),
        ("/api/v1/analytics/runs?offset=-10", "offset"),
        (
            "/api/v1/analytics/runs?offset=1000000000000000000000000",
            "offset",
        ),
        ("/api/v1/analytics/runs?limit=1&limit=2", "limit"),
        ("/api/v1/analytics/runs?from=yesterday", "from"),
        (
            "/api/v1/analytics/runs?outcome=won%27%20OR%201%3D1",
            "outcome",
        ),
        ("/api/v1/analytics/runs?session=", "session"),
        ("/api/v1/analytics/runs?sort=id;DROP%20TABLE%20runs", "sort"),
        ("/api/v1/analytics/jokers?limit=abc", "limit"),
        ("/api/v1/analytics/summary?x=1", "x"),
        ("/api/v1/analytics/runs/abc", "id"),
        ("/api/v1/analytics/runs/-1", "id"),
        ("/api/v1/analytics/runs/1%20OR%201=1", "id"),
        ("/api/v1/analytics/runs/99999999999999999999999", "id"),
    ];
    for (path, parameter) in cases {
        let (status, body) = get_json(&api, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["parameter"], parameter, "{path}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.len() > parameter.len()),
            "{path}: {body}"
        );
    }
    let long = format!("/api/v1/analytics/runs?session={}", "a".repeat(10_000));
    assert_eq!(get_json(&api, &long).await.0, 400);
}

#[tokio::test]
async fn sql_looking_sessions_match_nothing_and_unknown_runs_are_404() {
    let (h, _c, api) = api().await;
    let (status, body) = get_json(
        &api,
        "/api/v1/analytics/runs?session=alpha%27%20OR%20%271%27%3D%271",
    )
    .await;
    assert_eq!((status.as_u16(), body["total"].as_u64()), (200, Some(0)));
    let (status, body) = get_json(
        &api,
        "/api/v1/analytics/runs?session=x%27%3B%20DROP%20TABLE%20runs%3B%20--",
    )
    .await;
    assert_eq!((status.as_u16(), body["total"].as_u64()), (200, Some(0)));
    let (status, body) = get_json(&api, "/api/v1/analytics/runs/999").await;
    assert_eq!(status, 404, "{body}");
    let (_, all) = get_json(&api, "/api/v1/analytics/runs").await;
    assert_eq!(all["total"], 4, "the tables are intact");
    drop(h);
}
