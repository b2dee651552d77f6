//! First start: the demo district and the example task list, for an empty store.

use super::error::{Error, Result};
use crate::store::{NewDraft, Store};

/// The demo district, embedded so that a fresh store needs nothing else.
const DEMO: &[u8] = include_bytes!("../../fixtures/demo-district.geojson");

/// Who the demo's draft and generation are recorded as.
const DEMO_BY: &str = "gridatlas (demo district)";

/// Imports and publishes the demo district (金山区) into a store; returns its generation.
pub fn bootstrap_demo(store: &dyn Store) -> Result<i32> {
    tracing::info!("empty store: loading the demo district (金山区) as generation 1");
    let set = crate::geo_io::read_slice(DEMO)
        .map_err(|e| Error::internal(format!("reading the embedded demo district: {e}")))?;
    let (report, errors) = crate::validate::draft_report(&set).map_err(Error::internal)?;
    let id = store.create_draft(NewDraft {
        features: &set,
        covered_streets: None,
        report,
        error_count: errors,
        created_by: DEMO_BY,
    })?;
    Ok(store.publish(id, DEMO_BY, None)?.number)
}

/// Loads the example task list (fixtures/task-list.example.json) into a store without categories.
pub fn bootstrap_categories(store: &dyn Store) -> Result<()> {
    if !store.categories()?.is_empty() {
        return Ok(());
    }
    let cats =
        crate::routing::categories::parse_task_list(crate::routing::categories::EXAMPLE_TASK_LIST)
            .map_err(|p| {
                Error::internal(format!("the embedded example task list: {}", p.join("; ")))
            })?;
    tracing::info!(
        categories = cats.len(),
        "no case categories: loading the example task list"
    );
    Ok(store.replace_categories(&cats)?)
}
