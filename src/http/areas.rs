//! `GET /api/v1/areas`, `/areas/{code}`, `/areas/{code}/children`: handlers and the conversion
//! of atlas features into the `wire::areas` shapes. The linear search runs on the blocking pool.

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::atlas::{Atlas, FeatureId};
use crate::model::Layer;
use crate::wire;
use crate::wire::areas::{
    AreaChildren, AreaDetail, AreaPage, AreaRef, AreaSearchQuery, AreaSummary, GeometryQuery,
};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use std::collections::BTreeMap;

fn bbox(atlas: &Atlas, id: FeatureId) -> Option<[f64; 4]> {
    atlas
        .bbox(id)
        .map(|b| [b.min().x, b.min().y, b.max().x, b.max().y])
}

/// The summary of an area in lists (`people` is for children lists).
pub fn summary(atlas: &Atlas, id: FeatureId, geometry: bool) -> AreaSummary {
    let f = atlas.feature(id);
    AreaSummary {
        code: f.code.clone(),
        name: f.name.clone(),
        layer: f.layer,
        kind: f.kind,
        parent: f.parent.clone(),
        bbox: bbox(atlas, id),
        people: None,
        geometry: geometry.then(|| wire::geometry(&f.geometry)),
    }
}

/// A boolean flag parameter: absent, `0`, `false` or empty is false; `1` or `true` is true.
fn flag(name: &str, raw: Option<&str>) -> ApiResult<bool> {
    match raw {
        None | Some("0" | "false" | "") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => Err(ApiError::invalid_parameter(
            name,
            format!("{other:?} is not 0/1/true/false"),
        )),
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

/// The search of `GET /api/v1/areas` (a linear scan: call it on the blocking pool).
pub fn search(atlas: &Atlas, q: &AreaSearchQuery) -> ApiResult<AreaPage> {
    let layer = match q.layer.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<Layer>().map_err(|()| {
            ApiError::invalid_parameter("layer", format!("unknown layer {s:?}; expected one of district, street, resident_grid, street_grid, extended_grid, block, road_segment"))
        })?),
    };
    let limit = crate::service::usize_param("limit", q.limit.as_deref(), 50, 1000)?;
    let offset = crate::service::usize_param("offset", q.offset.as_deref(), 0, usize::MAX)?;
    let geometry = flag("geometry", q.geometry.as_deref())?;
    let (total, ids) = atlas.search(q.q.as_deref(), layer, q.parent.as_deref(), offset, limit);
    Ok(AreaPage {
        items: ids
            .into_iter()
            .map(|id| summary(atlas, id, geometry))
            .collect(),
        total,
        limit,
        offset,
        generation: atlas.generation(),
    })
}

/// One area with its parent chain, children counts, people and management units.
pub fn detail(atlas: &Atlas, code: &str, q: &GeometryQuery) -> ApiResult<AreaDetail> {
    let geometry = flag("geometry", q.geometry.as_deref())?;
    let id = find(atlas, code)?;
    let f = atlas.feature(id);
    let parents = atlas
        .ancestors(id)
        .into_iter()
        .map(|p| {
            let pf = atlas.feature(p);
            AreaRef {
                code: pf.code.clone(),
                name: pf.name.clone(),
                layer: pf.layer,
            }
        })
        .collect();
    let mut children: BTreeMap<String, usize> = BTreeMap::new();
    for &c in atlas.children(id) {
        *children
            .entry(atlas.feature(c).layer.as_str().to_owned())
            .or_default() += 1;
    }
    Ok(AreaDetail {
        code: f.code.clone(),
        name: f.name.clone(),
        layer: f.layer,
        kind: f.kind,
        parent: f.parent.clone(),
        parents,
        children,
        people: f.people.clone(),
        management_units: atlas.units_of_grid(id).cloned().collect(),
        attributes: f.attributes.clone(),
        bbox: bbox(atlas, id),
        area_m2: f
            .geometry
            .as_area()
            .map(|a| crate::geometry::measure::area_m2(a).round()),
        length_m: f
            .geometry
            .as_line()
            .map(|l| (crate::geometry::measure::length_m(l) * 10.0).round() / 10.0),
        generation: atlas.generation(),
        geometry: geometry.then(|| wire::geometry(&f.geometry)),
    })
}

/// The children of an area in file order, each with its people.
pub fn children_of(atlas: &Atlas, code: &str, q: &GeometryQuery) -> ApiResult<AreaChildren> {
    let geometry = flag("geometry", q.geometry.as_deref())?;
    let id = find(atlas, code)?;
    let items: Vec<AreaSummary> = atlas
        .children(id)
        .iter()
        .map(|&c| AreaSummary {
            people: Some(atlas.feature(c).people.clone()),
            ..summary(atlas, c, geometry)
        })
        .collect();
    Ok(AreaChildren {
        total: items.len(),
        items,
        generation: atlas.generation(),
    })
}

/// `GET /api/v1/areas?layer=&parent=&q=&limit=&offset=&geometry=`: search areas.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas",
    params(AreaSearchQuery),
    responses((status = 200, description = "A page of areas", body = AreaPage),
              (status = 400, description = "Invalid parameter", body = wire::problem::Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Params(q): Params<AreaSearchQuery>,
) -> ApiResult<Json<AreaPage>> {
    let atlas = state.atlas();
    tokio::task::spawn_blocking(move || search(&atlas, &q))
        .await
        .map_err(ApiError::internal)?
        .map(Json)
}

/// `GET /api/v1/areas/{code}[?geometry=1]`: one area with its parent chain, children counts and people.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "Area code"), GeometryQuery),
    responses((status = 200, description = "The area", body = AreaDetail),
              (status = 400, description = "Invalid parameter", body = wire::problem::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown code", body = wire::problem::Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    Params(q): Params<GeometryQuery>,
) -> ApiResult<Json<AreaDetail>> {
    let Path(code) = code?;
    detail(&state.atlas(), &code, &q).map(Json)
}

/// `GET /api/v1/areas/{code}/children[?geometry=1]`.
#[utoipa::path(get, path = "/api/v1/areas/{code}/children", tag = "areas",
    params(("code" = String, Path, description = "Area code"), GeometryQuery),
    responses((status = 200, description = "The children in file order", body = AreaChildren),
              (status = 400, description = "Invalid parameter", body = wire::problem::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown code", body = wire::problem::Problem, content_type = "application/problem+json")))]
pub async fn children(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    Params(q): Params<GeometryQuery>,
) -> ApiResult<Json<AreaChildren>> {
    let Path(code) = code?;
    children_of(&state.atlas(), &code, &q).map(Json)
}
