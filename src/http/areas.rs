//! `GET /api/v1/areas`, `/areas/{code}`, `/areas/{code}/children`.

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::atlas::{Atlas, FeatureId};
use crate::geo_io::write::geometry_to_json;
use crate::model::Layer;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

fn bbox_json(atlas: &Atlas, id: FeatureId) -> Value {
    atlas.bbox(id).map_or(Value::Null, |b| {
        json!([b.min().x, b.min().y, b.max().x, b.max().y])
    })
}

/// The summary of an area in lists.
pub fn summary(atlas: &Atlas, id: FeatureId, geometry: bool) -> Value {
    let f = atlas.feature(id);
    let mut v = json!({
        "code": f.code,
        "name": f.name,
        "layer": f.layer.as_str(),
        "kind": f.kind.map(|k| k.as_str()),
        "parent": f.parent,
        "bbox": bbox_json(atlas, id),
    });
    if geometry {
        v["geometry"] = geometry_to_json(&f.geometry);
    }
    v
}

fn flag(q: &HashMap<String, String>, name: &str) -> ApiResult<bool> {
    match q.get(name).map(String::as_str) {
        None | Some("0" | "false" | "") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => Err(ApiError::invalid_parameter(
            name,
            format!("{other:?} is not 0/1/true/false"),
        )),
    }
}

pub(crate) fn usize_param(
    q: &HashMap<String, String>,
    name: &str,
    default: usize,
    max: usize,
) -> ApiResult<usize> {
    match q.get(name) {
        None => Ok(default),
        Some(s) => {
            let v: usize = s.parse().map_err(|_| {
                ApiError::invalid_parameter(name, format!("{s:?} is not a non-negative integer"))
            })?;
            if v > max {
                return Err(ApiError::invalid_parameter(
                    name,
                    format!("{v} is above the maximum {max}"),
                ));
            }
            Ok(v)
        }
    }
}

fn find(atlas: &Atlas, code: &str) -> ApiResult<FeatureId> {
    atlas.find(code).ok_or_else(|| {
        ApiError::not_found(format!(
            "no area with code {code:?} in generation {}",
            atlas.generation().map_or("-".into(), |g| g.to_string())
        ))
    })
}

/// `GET /api/v1/areas?layer=&parent=&q=&limit=&offset=`: search areas.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas",
    params(
        ("q" = Option<String>, Query, description = "Code prefix or part of the name (Chinese included)"),
        ("layer" = Option<String>, Query, description = "district | street | resident_grid | street_grid | extended_grid | block | road_segment"),
        ("parent" = Option<String>, Query, description = "Parent code"),
        ("limit" = Option<usize>, Query, description = "Page size (default 50, at most 1000)"),
        ("offset" = Option<usize>, Query, description = "Items to skip"),
    ),
    responses((status = 200, description = "`{items, total, limit, offset}`", body = Object),
              (status = 400, description = "Invalid parameter", content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q?;
    let layer = match q.get("layer") {
        None => None,
        Some(s) => Some(s.parse::<Layer>().map_err(|()| {
            ApiError::invalid_parameter("layer", format!("unknown layer {s:?}; expected one of district, street, resident_grid, street_grid, extended_grid, block, road_segment"))
        })?),
    };
    let limit = usize_param(&q, "limit", 50, 1000)?;
    let offset = usize_param(&q, "offset", 0, usize::MAX)?;
    let geometry = flag(&q, "geometry")?;
    let atlas = state.atlas();
    let (total, ids) = atlas.search(
        q.get("q").map(String::as_str),
        layer,
        q.get("parent").map(String::as_str),
        offset,
        limit,
    );
    let items: Vec<Value> = ids
        .into_iter()
        .map(|id| summary(&atlas, id, geometry))
        .collect();
    Ok(Json(
        json!({"items": items, "total": total, "limit": limit, "offset": offset, "generation": atlas.generation()}),
    ))
}

/// `GET /api/v1/areas/{code}[?geometry=1]`: one area with its parent chain, children counts and people.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "Area code"), ("geometry" = Option<String>, Query, description = "1 to include the GeoJSON geometry")),
    responses((status = 200, description = "The area", body = Object),
              (status = 404, description = "Unknown code", content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Path(code) = code?;
    let Query(q) = q?;
    let geometry = flag(&q, "geometry")?;
    let atlas = state.atlas();
    let id = find(&atlas, &code)?;
    let f = atlas.feature(id);
    let parents: Vec<Value> = atlas
        .ancestors(id)
        .into_iter()
        .map(|p| {
            let pf = atlas.feature(p);
            json!({"code": pf.code, "name": pf.name, "layer": pf.layer.as_str()})
        })
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &c in atlas.children(id) {
        *counts.entry(atlas.feature(c).layer.as_str()).or_default() += 1;
    }
    let units: Vec<Value> = atlas.units_of_grid(id).map(|u| json!(u)).collect();
    let mut v = json!({
        "code": f.code,
        "name": f.name,
        "layer": f.layer.as_str(),
        "kind": f.kind.map(|k| k.as_str()),
        "parent": f.parent,
        "parents": parents,
        "children": counts,
        "people": f.people,
        "management_units": units,
        "attributes": f.attributes,
        "bbox": bbox_json(&atlas, id),
        "area_m2": f.geometry.as_area().map(|a| crate::geometry::measure::area_m2(a).round()),
        "generation": atlas.generation(),
    });
    if geometry {
        v["geometry"] = geometry_to_json(&f.geometry);
    }
    Ok(Json(v))
}

/// `GET /api/v1/areas/{code}/children[?geometry=1]`.
#[utoipa::path(get, path = "/api/v1/areas/{code}/children", tag = "areas",
    params(("code" = String, Path, description = "Area code"), ("geometry" = Option<String>, Query, description = "1 to include geometries")),
    responses((status = 200, description = "`{items}` in file order", body = Object),
              (status = 404, description = "Unknown code", content_type = "application/problem+json")))]
pub async fn children(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Path(code) = code?;
    let Query(q) = q?;
    let geometry = flag(&q, "geometry")?;
    let atlas = state.atlas();
    let id = find(&atlas, &code)?;
    let items: Vec<Value> = atlas
        .children(id)
        .iter()
        .map(|&c| {
            let mut v = summary(&atlas, c, geometry);
            v["people"] = json!(atlas.feature(c).people);
            v
        })
        .collect();
    Ok(Json(
        json!({"items": items, "total": items.len(), "generation": atlas.generation()}),
    ))
}
