//! The architecture gridatlas replaces, for the HTTP benchmark: `GET /api/v1/lookup?lon=&lat=`
//! answered by one PostGIS query per request (`ST_Covers` on the GiST-indexed `features.area` of
//! a store written by `gridatlas import` + `publish`), over a pool of connections (diesel + r2d2),
//! the row set turned into a placement document with serde_json.
//!
//! `cargo run --release --example postgis_lookup -- 127.0.0.1:18092 postgres://… [POOL]`
//! (used by scripts/bench-http). Answers district, street, grid, block and block head — no nearest
//! fallback and no road segments, which would cost PostGIS more queries: a lower bound on its cost.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sql_types::{Double, Nullable, Text};
use serde_json::{Value, json};
use std::collections::HashMap;

type PgPool = Pool<ConnectionManager<PgConnection>>;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    layer: String,
    #[diesel(sql_type = Nullable<Text>)]
    kind: Option<String>,
    #[diesel(sql_type = Text)]
    people: String,
    #[diesel(sql_type = Text)]
    attributes: String,
}

/// Every current area covering the point, all layers in one query.
const QUERY: &str = "SELECT code, name, layer, kind, people, attributes FROM features \
     WHERE valid_to IS NULL AND area IS NOT NULL \
     AND ST_Covers(area, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id";

fn area(r: &Row) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("code".into(), json!(r.code));
    o.insert("name".into(), json!(r.name));
    o.insert("layer".into(), json!(r.layer));
    if let Some(k) = &r.kind {
        o.insert("kind".into(), json!(k));
    }
    let people: Value = serde_json::from_str(&r.people).unwrap_or(Value::Null);
    if people.as_array().is_some_and(|a| !a.is_empty()) {
        o.insert("people".into(), people);
    }
    let attributes: Value = serde_json::from_str(&r.attributes).unwrap_or(Value::Null);
    if attributes.as_object().is_some_and(|a| !a.is_empty()) {
        o.insert("attributes".into(), attributes);
    }
    Value::Object(o)
}

fn lookup(pool: &PgPool, lon: f64, lat: f64) -> anyhow::Result<Value> {
    let mut conn = pool.get()?;
    let rows: Vec<Row> = diesel::sql_query(QUERY)
        .bind::<Double, _>(lon)
        .bind::<Double, _>(lat)
        .load(&mut conn)?;
    let first = |layers: &[&str]| rows.iter().find(|r| layers.contains(&r.layer.as_str()));
    let block = first(&["block"]);
    let block_head = block
        .and_then(|b| serde_json::from_str::<Vec<Value>>(&b.people).ok())
        .and_then(|p| p.into_iter().find(|p| p["role"] == "block_head"))
        .unwrap_or(Value::Null);
    Ok(json!({
        "lon": lon,
        "lat": lat,
        "district": first(&["district"]).map(area),
        "street": first(&["street"]).map(area),
        "grid": first(&["resident_grid", "street_grid", "extended_grid"]).map(area),
        "block": block.map(area),
        "block_head": block_head,
        "fallback": if block.is_some() { Value::Null } else { json!("outside") },
    }))
}

async fn handler(State(pool): State<PgPool>, Query(q): Query<HashMap<String, String>>) -> Response {
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<f64>().ok());
    let (Some(lon), Some(lat)) = (num("lon"), num("lat")) else {
        return (StatusCode::BAD_REQUEST, "lon and lat are required").into_response();
    };
    match tokio::task::spawn_blocking(move || lookup(&pool, lon, lat)).await {
        Ok(Ok(v)) => ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:18092".into());
    let url = args
        .get(2)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("usage: postgis_lookup ADDR DATABASE_URL [POOL]"))?;
    let size: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8);
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(Some(size))
        .build(ConnectionManager::<PgConnection>::new(url))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = Router::new()
            .route("/api/v1/lookup", get(handler))
            .with_state(pool);
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}
